package bindings_test

import (
	"os"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// lua51Globals are the globals of Lua 5.1 itself (and gopher-lua's own):
// README's list of modules and globals names only what ctrsh adds.
var lua51Globals = map[string]bool{
	"_G": true, "_VERSION": true, "assert": true, "dofile": true, "error": true, "getfenv": true,
	"getmetatable": true, "ipairs": true, "load": true, "loadfile": true, "loadstring": true,
	"module": true, "next": true, "pairs": true, "pcall": true, "rawequal": true, "rawget": true,
	"rawset": true, "require": true, "select": true, "setfenv": true, "setmetatable": true,
	"tonumber": true, "tostring": true, "type": true, "unpack": true, "xpcall": true, "newproxy": true,
	"string": true, "table": true, "math": true, "os": true, "io": true, "coroutine": true,
	"debug": true, "package": true, "channel": true, "_GOPHER_LUA_VERSION": true, "_printregs": true,
}

// TestREADMEListsEveryModuleAndGlobal: README's "Modules and globals" (in
// Development) names every module and every global a state has beyond Lua
// 5.1's, so a new one cannot go undocumented.
func TestREADMEListsEveryModuleAndGlobal(t *testing.T) {
	src, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "### Modules and globals")
	if start < 0 {
		t.Fatal(`README.md has no "### Modules and globals" section`)
	}
	section := text[start:]
	if end := strings.Index(section[1:], "\n#"); end >= 0 {
		section = section[:end+1]
	}

	L := bindings.New(&luax.Env{Stdout: &strings.Builder{}, Stderr: &strings.Builder{}, DockerHost: "unix:///nonexistent/docker.sock"})
	defer L.Close()
	var names []string
	names = append(names, luax.Modules(L)...)
	L.Get(lua.GlobalsIndex).(*lua.LTable).ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok && !lua51Globals[string(s)] {
			names = append(names, string(s))
		}
	})
	if len(names) < 10 {
		t.Fatalf("only %d modules and globals found: %v", len(names), names)
	}
	for _, name := range names {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("README.md, Modules and globals: %q is not listed", name)
		}
	}
}
