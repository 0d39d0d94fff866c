package bindings

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/trust"
)

// installRequire makes require load Lua files only from where env allows,
// whichever way code entered the state (a script, a playbook, -e, standard
// input, the shell, a c:run child): package.preload first (ctrsh's own
// modules), then NAME.lua in env.ModuleDirs, each file read through
// trust.ReadFile. As root nothing else is searched — not the current
// directory, not LUA_PATH — and an untrusted file ends the run with exit 77
// naming why. Not as root, package.path (LUA_PATH) is searched after the
// directories. Inside a container (env.InContainer) no file is searched at
// all: the files there are the container's, and the chunk runs with ctrsh's
// privileges.
func installRequire(L *lua.LState, env *luax.Env) {
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	loaders, ok := pkg.RawGetString("loaders").(*lua.LTable)
	if !ok {
		return
	}
	privileged := trust.Checked()
	var dirs []string
	if !env.InContainer {
		for _, d := range env.ModuleDirs {
			dirs = append(dirs, filepath.Join(d, "?.lua"))
		}
	}
	path := strings.Join(dirs, ";")
	// Lua's own path: LUA_PATH, or ./?.lua and the usual directories.
	luaPath := lua.LVAsString(pkg.RawGetString("path"))
	if !privileged && !env.InContainer {
		path = strings.Trim(path+";"+luaPath, ";")
	}
	pkg.RawSetString("path", lua.LString(path))

	loaders.RawSetInt(2, L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		if env.InContainer {
			L.Push(lua.LString("\n\tinside a container (c:run), module files are not searched: only ctrsh's own modules load"))
			return 1
		}
		patterns := dirs
		if !privileged {
			// The script may have changed package.path; as root it is not used.
			patterns = strings.Split(lua.LVAsString(pkg.RawGetString("path")), ";")
		}
		var tried strings.Builder
		for _, pattern := range patterns {
			if pattern == "" {
				continue
			}
			p := strings.ReplaceAll(pattern, "?", strings.ReplaceAll(name, ".", "/"))
			if _, err := os.Lstat(p); err != nil {
				fmt.Fprintf(&tried, "\n\tno file '%s'", p)
				continue
			}
			f, err := trust.ReadFile(p)
			if err != nil {
				if errors.Is(err, trust.ErrUntrusted) {
					luax.RaiseExit(L, luax.ExitRefused, fmt.Sprintf("refused: require %q: %v", name, err))
				}
				L.RaiseError("require %q: %v", name, err)
			}
			fn, err := luax.Load(L, bytes.NewReader(f.Source), p)
			if err != nil {
				L.RaiseError("require %q: %v", name, err)
			}
			L.Push(fn)
			return 1
		}
		if privileged {
			// Say so when the module is where Lua would have looked.
			for _, pattern := range strings.Split(luaPath, ";") {
				p := strings.ReplaceAll(pattern, "?", strings.ReplaceAll(name, ".", "/"))
				if _, err := os.Lstat(p); pattern != "" && err == nil {
					fmt.Fprintf(&tried, "\n\t%s: not loaded", p)
				}
			}
			tried.WriteString("\n\tthe current directory and LUA_PATH are not searched as root")
		}
		L.Push(lua.LString(tried.String()))
		return 1
	}))
}
