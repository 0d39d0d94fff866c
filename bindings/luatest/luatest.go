// Package luatest runs Lua test files as Go subtests, as starlarktest does
// for Starlark: every global function named Test* in testdata/*_test.lua is
// a subtest, run in a fresh ctrsh Lua state with an assert module and an
// engine module for the private test Docker Engine.
package luatest

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

//go:embed assert.lua
var assertSrc string

// Timeout bounds one Lua test function, so a test fails instead of hanging.
var Timeout = 5 * time.Minute

// Option changes how the states of a run are built.
type Option func(*config)

type config struct {
	setup  []func(t *testing.T, L *lua.LState)
	env    []func(env *luax.Env)
	target *testengine.Target
}

// WithTarget runs the states against target (testengine.Podman, say)
// instead of the Docker test engine: the docker module's endpoint and the
// engine module's docker CLI are its. engine.kind names it.
func WithTarget(target *testengine.Target) Option {
	return func(c *config) { c.target = target }
}

// WithSetup runs fn on every fresh state before the test file loads (to
// point a module at a fixture tree, say).
func WithSetup(fn func(t *testing.T, L *lua.LState)) Option {
	return func(c *config) { c.setup = append(c.setup, fn) }
}

// WithEnv changes the Env of every state.
func WithEnv(fn func(env *luax.Env)) Option {
	return func(c *config) { c.env = append(c.env, fn) }
}

var testFuncRE = regexp.MustCompile(`(?m)^\s*function\s+(Test[A-Za-z0-9_]*)\s*\(`)

// Run runs every Test* function of the files matching pattern as subtests
// named after the file and the function. A failing assertion fails the Go
// test with the Lua file and line.
func Run(t *testing.T, pattern string, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatalf("luatest: %v", err)
	}
	if len(files) == 0 {
		t.Fatalf("luatest: no files match %s", pattern)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("luatest: %v", err)
		}
		names := testFuncRE.FindAllStringSubmatch(string(src), -1)
		if len(names) == 0 {
			t.Errorf("luatest: %s defines no Test* function", file)
		}
		base := strings.TrimSuffix(filepath.Base(file), "_test.lua")
		for _, m := range names {
			name := m[1]
			t.Run(base+"/"+name, func(t *testing.T) {
				runOne(t, &cfg, file, name)
			})
		}
	}
}

// Output collects what a test's state writes, shown when it fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// NewState builds a ctrsh state as tests see it: output to the test log,
// the Docker endpoint of the test engine, plus the assert and engine modules.
func NewState(t *testing.T, opts ...Option) *lua.LState {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	return newState(t, &cfg)
}

func newState(t *testing.T, cfg *config) *lua.LState {
	// Any statement may reach the engine (proc.list{container=...} does):
	// hold the shared lock, so another package's Restart waits for us.
	testengine.Share(t)
	target := cfg.target
	if target == nil {
		target = testengine.Default
	}
	env := &luax.Env{
		Stdout:     testWriter{t},
		Stderr:     testWriter{t},
		Stdin:      strings.NewReader(""),
		DockerHost: target.Endpoint(),
	}
	for _, fn := range cfg.env {
		fn(env)
	}
	L := bindings.New(env)
	t.Cleanup(L.Close)
	fn, err := luax.Load(L, strings.NewReader(assertSrc), "luatest/assert.lua")
	if err != nil {
		t.Fatalf("luatest: assert module: %v", err)
	}
	L.Push(fn)
	if err := luax.PCall(L, 0, 1, nil); err != nil {
		t.Fatalf("luatest: assert module: %v", err)
	}
	assertMod := L.Get(-1)
	L.Pop(1)
	L.SetGlobal("assert", assertMod)
	L.SetGlobal("engine", engineModule(t, L, target))
	L.SetGlobal("T", testModule(t, L))
	L.SetGlobal("fixture", L.NewFunction(func(L *lua.LState) int {
		root := trees.Unpack(t, L.CheckString(1))
		luax.SetHostRoot(L, root)
		L.Push(lua.LString(root))
		return 1
	}))
	for _, fn := range cfg.setup {
		fn(t, L)
	}
	return L
}

func runOne(t *testing.T, cfg *config, file, name string) {
	L := newState(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	L.SetContext(ctx)
	if err := luax.DoFile(L, file); err != nil {
		t.Fatalf("%s: loading: %v", file, err)
	}
	fn, ok := L.GetGlobal(name).(*lua.LFunction)
	if !ok {
		t.Fatalf("%s: %s is not a function", file, name)
	}
	if err := luax.CallByParam(L, lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
		msg := err.Error()
		if apiErr, ok := err.(*lua.ApiError); ok {
			msg = apiErr.Object.String()
			if e, ok := luax.AsExit(apiErr.Object); ok {
				msg = fmt.Sprintf("exit %d: %s", e.Code, e.Msg)
			}
			if apiErr.StackTrace != "" {
				msg += "\n" + apiErr.StackTrace
			}
		}
		if ctx.Err() != nil {
			msg += fmt.Sprintf("\n(luatest: the test ran longer than %v)", Timeout)
		}
		t.Errorf("%s", msg)
	}
}

// testModule is the T global: T.name, T.tempdir(), T.cleanup(fn), T.log(...).
func testModule(t *testing.T, L *lua.LState) *lua.LTable {
	m := L.NewTable()
	m.RawSetString("name", lua.LString(t.Name()))
	m.RawSetString("tempdir", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(t.TempDir()))
		return 1
	}))
	m.RawSetString("log", L.NewFunction(func(L *lua.LState) int {
		var parts []string
		for i := 1; i <= L.GetTop(); i++ {
			parts = append(parts, luax.ToString(L, L.Get(i)))
		}
		t.Log(strings.Join(parts, "\t"))
		return 0
	}))
	m.RawSetString("cleanup", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		t.Cleanup(func() {
			L.RemoveContext()
			if err := luax.CallByParam(L, lua.P{Fn: fn, Protect: true}); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		return 0
	}))
	m.RawSetString("skip_unless_root", L.NewFunction(func(L *lua.LState) int {
		testengine.NeedRoot(t, "this test")
		return 0
	}))
	return m
}

// engineModule is the engine global: the private test Docker Engine, or
// another target.
func engineModule(t *testing.T, L *lua.LState, target *testengine.Target) *lua.LTable {
	m := L.NewTable()
	m.RawSetString("kind", lua.LString(target.Name))
	m.RawSetString("host", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(target.Host(t)))
		return 1
	}))
	args := func(L *lua.LState) []string {
		var out []string
		for i := 1; i <= L.GetTop(); i++ {
			if tbl, ok := L.Get(i).(*lua.LTable); ok {
				list, err := luax.StringList(tbl)
				if err != nil {
					L.ArgError(i, err.Error())
				}
				out = append(out, list...)
				continue
			}
			out = append(out, L.CheckString(i))
		}
		return out
	}
	m.RawSetString("docker", L.NewFunction(func(L *lua.LState) int {
		target.Host(t)
		out, err := target.Docker(t, args(L)...)
		if err != nil {
			L.RaiseError("engine.docker: %v", err)
		}
		L.Push(lua.LString(out))
		return 1
	}))
	m.RawSetString("run", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(target.Run(t, args(L)...)))
		return 1
	}))
	m.RawSetString("busybox", lua.LString(testengine.BusyboxImage))
	m.RawSetString("distroless", lua.LString(testengine.DistrolessImage))
	return m
}
