package bindings_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// A Go function that calls Lua in protected mode, called from Lua frames
// that share upvalues, leaves those upvalues alone when the call fails.
func TestPCallFromGoKeepsCallerUpvalues(t *testing.T) {
	L, out := newState(t, false)
	L.SetGlobal("gocall", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.CheckFunction(1))
		err := luax.PCall(L, 0, 0, nil)
		L.Push(lua.LBool(err == nil))
		return 1
	}))
	err := luax.DoString(L, `
		local n = 0
		local function bump() n = n + 1 end
		local get
		bump(); gocall(function() error("x") end); bump()
		print(gocall(function() local mine = "mine"; get = function() return mine end; error("y") end))
		local a, b, c = "other", "other", "other"
		bump()
		local later
		local function use() return later end
		gocall(function() error("z") end)
		later = "later"
		print(n, get(), use())
	`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "false\n3\tmine\tlater\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// PCall's results and errors follow L.PCall's contract: results replace
// the function and arguments, an error leaves the stack below them.
func TestPCallStackContract(t *testing.T) {
	L, _ := newState(t, false)
	L.Push(lua.LString("below"))
	L.Push(L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(L.CheckNumber(1) + L.CheckNumber(2)))
		L.Push(lua.LString("two"))
		return 2
	}))
	L.Push(lua.LNumber(1))
	L.Push(lua.LNumber(2))
	if err := luax.PCall(L, 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	if L.GetTop() != 2 || L.Get(1).String() != "below" || L.Get(2).String() != "3" {
		t.Errorf("stack after PCall(2, 1): top %d, %v %v", L.GetTop(), L.Get(1), L.Get(2))
	}
	L.SetTop(1)
	if err := L.DoString(`function fails(x) error({code = x}) end`); err != nil {
		t.Fatal(err)
	}
	L.Push(L.GetGlobal("fails"))
	L.Push(lua.LNumber(7))
	err := luax.PCall(L, 1, lua.MultRet, nil)
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		t.Fatalf("PCall error %v (%T), want *lua.ApiError", err, err)
	}
	tbl, ok := ae.Object.(*lua.LTable)
	if !ok || tbl.RawGetString("code").String() != "7" {
		t.Errorf("error object %v, want the table raised", ae.Object)
	}
	if L.GetTop() != 1 {
		t.Errorf("stack top after a failed PCall: %d, want 1", L.GetTop())
	}
	// With a handler, the error is the handler's result.
	L.Push(L.GetGlobal("fails"))
	L.Push(lua.LNumber(8))
	handler := L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("handled " + L.Get(1).(*lua.LTable).RawGetString("code").String()))
		return 1
	})
	err = luax.PCall(L, 1, 0, handler)
	if !errors.As(err, &ae) || ae.Object.String() != "handled 8" {
		t.Errorf("PCall with a handler: %v, want handled 8", err)
	}
	// A Go panic stays an ApiErrorPanic (exit code 70 at the top).
	L.Push(L.NewFunction(func(L *lua.LState) int { panic("boom") }))
	err = luax.PCall(L, 0, 0, nil)
	if !errors.As(err, &ae) || ae.Type != lua.ApiErrorPanic {
		t.Errorf("PCall of a panicking function: %v, want an ApiErrorPanic", err)
	}
}

// Ctrl-C and --timeout stop a loop that catches every error, including
// the context's own.
func TestPCallContextStopsLoop(t *testing.T) {
	for _, body := range []string{
		`while true do pcall(function() end) end`,
		`while true do pcall(sleep, 10) end`,
		`while true do pcall(function() while true do end end) end`,
	} {
		L, _ := newState(t, false)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		L.SetContext(ctx)
		start := time.Now()
		err := luax.DoString(L, body)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
			t.Errorf("%s: error %v, want the context's", body, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: stopped after %v", body, d)
		}
	}
}

// A script's snippets of issue 11 give Lua 5.1's answers through
// every entry point: a chunk run from Go, pcall, xpcall.
func TestIssueSnippetsFromGo(t *testing.T) {
	const snippets = `
		local n = 0
		local function try(f, ...) n = n + 1; return %[1]s end
		try(error, "x"); try(error, "y"); try(error, "z")
		print(n)
		local a
		local function use() return a("ok") end
		%[2]s
		a = function(s) return s end
		print(use())
	`
	for _, c := range []struct{ try, fail string }{
		{`pcall(f, ...)`, `pcall(function() error("boom") end)`},
		{`xpcall(f, function(m) return m end, ...)`, `xpcall(function() error("boom") end, debug.traceback)`},
	} {
		L, out := newState(t, false)
		if err := luax.DoString(L, fmt.Sprintf(snippets, c.try, c.fail)); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "3\nok\n" {
			t.Errorf("with %s: output %q, want 3 and ok", c.try, got)
		}
	}
}

// pcall in a hot loop: ctrsh's (a thread per call, reused after success)
// beside gopher-lua's own.
func BenchmarkPcall(b *testing.B) {
	cases := []struct{ name, body string }{
		{"ok", `pcall(f)`},
		{"error", `pcall(error, "x")`},
		{"xpcall-error", `xpcall(e, h)`},
		{"nested-ok", `pcall(pcall, f)`},
	}
	states := []struct {
		name string
		new  func() *lua.LState
	}{
		{"ctrsh", func() *lua.LState { return bindings.New(&luax.Env{Stdout: new(strings.Builder)}) }},
		{"stock", func() *lua.LState { return lua.NewState() }},
	}
	for _, c := range cases {
		for _, s := range states {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				L := s.new()
				defer L.Close()
				if err := L.DoString(`
					function f() return 1 end
					function e() error("x") end
					function h(m) return m end
					function loop(n) for i = 1, n do ` + c.body + ` end end`); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				if err := L.CallByParam(lua.P{Fn: L.GetGlobal("loop"), Protect: true}, lua.LNumber(b.N)); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
