package bindings_test

import (
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
	// A batch is aligned as a whole; print flushes it first; rank and
	// container lead, the rest sorted.
	want := "NAME      PID\nweb       2543\ndatabase  7\nbetween\n"
	if out.String() != want {
		t.Errorf("emit rows = %q, want %q", out.String(), want)
	}
	luax.GetEnv(L).FlushRows()
	if want += "RANK  CONTAINER  CPU\n1     db         0.5\n"; out.String() != want {
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
	L, _ := newState(t, true)
	for _, call := range []string{`io.open("/etc/hostname")`, `io.popen("id")`, `debug.getinfo(1)`, `load("return 1")`,
		`loadstring("return 1")`, `dofile("/dev/null")`, `loadfile("/dev/null")`, `os.execute("true")`,
		`os.remove("/nonexistent")`, `os.rename("/a", "/b")`, `mkdir("/tmp/x")`, `require("io").open("/etc/hostname")`} {
		err := L.DoString(call)
		if err == nil || !strings.Contains(err.Error(), "not available with --safe") {
			t.Errorf("--safe: %s: %v", call, err)
		}
	}
	if err := L.DoString("assert(os.time() > 0); assert(string.upper('a') == 'A')"); err != nil {
		t.Errorf("--safe removed too much: %v", err)
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
