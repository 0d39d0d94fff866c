package bindings_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua")
}

func newState(t *testing.T, safe bool) (*lua.LState, *strings.Builder) {
	var out strings.Builder
	L := bindings.New(&luax.Env{Stdout: &out, Stderr: &out, Safe: safe})
	t.Cleanup(L.Close)
	return L, &out
}

func TestPPShowsNestedCyclesAndLongArrays(t *testing.T) {
	L, out := newState(t, false)
	err := L.DoString(`
		local t = {name = "web", pids = {1, 2, 3}, ["odd key"] = true}
		t.self = t
		pp(t)
		local long = {}
		for i = 1, 120 do long[i] = {i = i} end
		pp(long)
	`)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		`name = "web"`,
		`pids = {1, 2, 3}`,
		`["odd key"] = true`,
		`self = <cycle>`,
		`… (120 items in all)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pp output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "{\n    i = ") > 50 {
		t.Errorf("pp printed more than 50 items of a long array")
	}
}

func TestEmitAlignsRowsAndWritesJSON(t *testing.T) {
	L, out := newState(t, false)
	if err := L.DoString(`emit{pid=2543, name="web"} emit{name="database", pid=7} print("between") emit{rank=1, container="db", cpu=0.5}`); err != nil {
		t.Fatal(err)
	}
	// A batch is aligned as a whole, numbers on the right; print flushes
	// it first; rank and container lead, the rest sorted.
	want := "NAME       PID\nweb       2543\ndatabase     7\nbetween\n"
	if out.String() != want {
		t.Errorf("emit rows = %q, want %q", out.String(), want)
	}
	luax.GetEnv(L).FlushRows()
	if want += "RANK  CONTAINER  CPU\n   1  db         0.5\n"; out.String() != want {
		t.Errorf("emit rows = %q, want %q", out.String(), want)
	}
	var js strings.Builder
	L2 := bindings.New(&luax.Env{Stdout: &js, Stderr: &js, JSON: true})
	defer L2.Close()
	if err := L2.DoString(`emit{a=1, b={1,2}, c="x"}`); err != nil {
		t.Fatal(err)
	}
	if js.String() != `{"a":1,"b":[1,2],"c":"x"}`+"\n" {
		t.Errorf("emit --json = %q", js.String())
	}
}

func TestSafeRemovesEscapes(t *testing.T) {
	L, out := newState(t, true)
	for _, call := range []string{`io.open("/etc/hostname")`, `io.popen("id")`, `io.lines("/etc/hostname")`, `io.read()`,
		`io.output("/tmp/x")`, `io.input("/etc/hostname")`, `io.tmpfile()`, `debug.getinfo(1)`, `load("return 1")`,
		`loadstring("return 1")`, `dofile("/dev/null")`, `loadfile("/dev/null")`, `os.execute("true")`,
		`os.remove("/nonexistent")`, `os.rename("/a", "/b")`, `os.getenv("HOME")`, `os.exit(0)`, `os.tmpname()`,
		`os.setenv("A", "b")`, `mkdir("/tmp/x")`, `require("io").open("/etc/hostname")`, `package.loaded.debug.getregistry()`,
		`package.loadlib("a", "b")`, `net.dial("127.0.0.1:9")`, `package.preload.net().http_get("http://127.0.0.1:9")`} {
		err := L.DoString(call)
		if err == nil || !strings.Contains(err.Error(), "not available with --safe") {
			t.Errorf("--safe: %s: %v", call, err)
		}
	}
	if err := L.DoString(`assert(os.time() > 0 and os.clock() >= 0 and os.date("%Y") and os.difftime(2, 1) == 1)
		assert(string.upper('a') == 'A')
		io.write("w ") io.stdout:write("o ") io.stderr:write("e ") io.flush() io.stdout:flush()`); err != nil {
		t.Errorf("--safe removed too much: %v", err)
	}
	if out.String() != "w o e " {
		t.Errorf("io.write, io.stdout, io.stderr wrote %q to the Env's writers", out.String())
	}
}

// TestSafeClassifiesEveryFunction: every function of every ctrsh module,
// type and global is either read-only or refused by --safe, and this test
// says which: a new one must be placed in one list or the other. Each
// refused one raises naming itself, before looking at its arguments.
func TestSafeClassifiesEveryFunction(t *testing.T) {
	refused := map[string]bool{
		"c:exec": true, "c:enter": true, "c:run": true, "c:start": true, "c:stop": true, "c:restart": true,
		"c:kill": true, "c:pause": true, "c:unpause": true, "ns.enter": true, "ns.run": true,
		"net.dial": true, "net.http_get": true, "conn:write": true, "conn:read": true, "conn:close": true,
		"mkdir": true,
	}
	readOnly := map[string]bool{
		"docker.ping": true, "docker.info": true, "docker.containers": true, "docker.container": true, "docker.stats": true,
		"c:refresh": true, "c:inspect": true, "c:top": true, "c:stats": true, "c:logs": true, "c:events": true,
		"c:ns": true, "c:cgroup": true, "c:wait": true,
		"proc.get": true, "proc.self": true, "proc.list": true,
		"p:environ": true, "p:ns": true, "p:cgroup": true, "p:children": true, "p:status": true, "p:container": true,
		"ns.of": true, "ns.same": true,
		"cgroup.mode": true, "cgroup.version": true, "cgroup.of": true, "cgroup.open": true,
		"cg:memory": true, "cg:cpu": true, "cg:pids": true, "cg:io": true, "cg:procs": true, "cg:oom_kills": true, "cg:watch_oom": true,
		"events.stream": true, "events.watch": true, "logs.read": true, "json.encode": true, "json.decode": true,
		"trace.exec": true, "trace.exit": true, "trace.oom": true, "trace.connect": true, "trace.open": true,
		"trace.stream": true, "c:trace": true, "c:env": true,
		"journal.events": true, "journal.samples": true, "journal.open": true, "journal.path": true, "c:history": true,
		"containers.list": true, "containers.get": true, "containers.stats": true, "containers.events": true, "containers.runtimes": true,
		"cri.version": true, "cri.containers": true, "cri.container": true, "cri.pods": true, "cri.events": true,
		"f:write": true, "f:flush": true, "f:setvbuf": true, "f:close": true,
		"print": true, "pp": true, "emit": true, "sleep": true, "now": true, "help": true, "fail": true, "playbook": true, "top": true, "progress": true,
		"unpack": true, "collectgarbage": true, "utf8.char": true, "utf8.codepoint": true, "utf8.len": true, "utf8.codes": true, "utf8.offset": true,
	}
	// The read-only ones are called too (with no arguments): no engine, so
	// that they fail fast.
	L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: io.Discard, Safe: true, DockerHost: "unix:///nonexistent/docker.sock"})
	defer L.Close()
	funcs := map[string]lua.LValue{}
	collect := func(prefix string, tbl *lua.LTable) {
		tbl.ForEach(func(k, v lua.LValue) {
			if fn, ok := v.(*lua.LFunction); ok && luax.Doc(L, fn) != "" {
				funcs[prefix+k.String()] = fn
			}
		})
	}
	for _, m := range luax.Modules(L) {
		collect(m+".", L.GetGlobal(m).(*lua.LTable))
	}
	for typ, prefix := range map[string]string{"ctrsh.Container": "c:", "ctrsh.Process": "p:", "ctrsh.Cgroup": "cg:", "ctrsh.Conn": "conn:", "ctrsh.Stream": "f:"} {
		mt, ok := L.GetTypeMetatable(typ).(*lua.LTable)
		if !ok {
			t.Fatalf("no metatable %s", typ)
		}
		collect(prefix, mt.RawGetString("__methods").(*lua.LTable))
	}
	collect("", L.Get(lua.GlobalsIndex).(*lua.LTable))
	for name, fn := range funcs {
		if !refused[name] && !readOnly[name] {
			t.Errorf("%s is neither read-only nor refused by --safe: decide, and add it to this test", name)
			continue
		}
		err := L.CallByParam(lua.P{Fn: fn, Protect: true})
		refusedNow := err != nil && strings.Contains(err.Error(), name+" is not available with --safe")
		if refused[name] != refusedNow {
			t.Errorf("%s with --safe: %v; refused: want %v", name, err, refused[name])
		}
		if d := luax.Doc(L, fn); refused[name] != strings.HasSuffix(d, "(not with --safe)") {
			t.Errorf("the doc of %s does not say whether --safe allows it: %q", name, d)
		}
	}
	for name := range refused {
		if funcs[name] == nil {
			t.Errorf("%s is not in the state", name)
		}
	}
}

func TestHelpPrintsDocs(t *testing.T) {
	L, out := newState(t, false)
	if err := L.DoString(`help(json.encode) help() help("sleep")`); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"json.encode(v", "modules", "json", "sleep(seconds)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help output lacks %q:\n%s", want, out.String())
		}
	}
}

// io.stdout, io.stderr and io.write write to the Env's writers, after the
// rows emit() holds; io.output still redirects io.write to a file.
func TestStdioWritesToEnv(t *testing.T) {
	var out, errOut strings.Builder
	L := bindings.New(&luax.Env{Stdout: &out, Stderr: &errOut})
	defer L.Close()
	file := filepath.Join(t.TempDir(), "out")
	err := L.DoString(fmt.Sprintf(`
		emit{a = 1}
		io.write("w", 1, "\n")
		assert(io.stdout:write("o\n") == io.stdout)
		io.stderr:write("e\n")
		assert(io.type(io.stdout) == "file" and io.type(42) == nil)
		local ok, err = io.stdout:close()
		assert(ok == nil and err == "cannot close stdout", err)
		ok, err = io.close()
		assert(ok == nil and err == "cannot close stdout", err)
		local f = io.output(%q)
		io.write("to the file")
		io.close()
		io.output(io.stdout)
		io.write("back\n")
		io.flush()
	`, file))
	if err != nil {
		t.Fatal(err)
	}
	if want := "A\n1\nw1\no\nback\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	if errOut.String() != "e\n" {
		t.Errorf("stderr %q", errOut.String())
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "to the file" {
		t.Errorf("io.output file: %q %v", b, err)
	}
}

// help() names the Lua 5.2-5.4 additions, and help(module) shows each.
func TestHelpListsLua52Additions(t *testing.T) {
	L, out := newState(t, false)
	if err := luax.DoString(L, `help() help(table) help(math) help(string) help(utf8) help(io) help("ctrsh.nothing")`); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"table.pack, table.unpack, math.tointeger, string.rep(s, n, sep)",
		`read formats without * ("a", "l", "L", "n")`,
		"  utf8 ",
		"table.pack(...) --> {n = select('#', ...), ...}",
		"table.unpack(t [, i [, j]])",
		"math.tointeger(x)",
		"string.rep(s, n [, sep])",
		"utf8.char(...)", "utf8.codepoint(s", "utf8.len(s", "utf8.codes(s", "utf8.offset(s",
		`io.read(...) --> what io.input():read(...) reads; formats "l"`,
		"io.lines([filename, ...])",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help output lacks %q:\n%s", want, out.String())
		}
	}
}
