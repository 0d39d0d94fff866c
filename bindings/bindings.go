// Package bindings builds the Lua state of ctrsh: the standard libraries,
// the helpers every run has (pp, emit, json, sleep, now, help, fail,
// playbook), and every ctrsh module, preloaded and set as a global.
package bindings

import (
	"os"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Module is one preloaded ctrsh module (newModules, in modules.go, builds
// them all and wires them together).
type Module struct {
	Name   string
	Loader lua.LGFunction
}

// Options are the gopher-lua options of every state. The data stack starts
// at gopher-lua's default and may grow to 256 Ki values (4 MiB), so that
// table.concat or unpack of a few thousand values does not fail with
// "registry overflow" as it does at the fixed default of 5120.
var Options = lua.Options{
	RegistrySize:     lua.RegistrySize,
	RegistryMaxSize:  256 * 1024,
	RegistryGrowStep: lua.RegistrySize,
}

// New builds a Lua state for one run (the shell, a script, a playbook, -e,
// standard input, a c:run child). Everything that decides what code in the
// state may do is set here, from env, whichever way the code came in:
// where require looks and what it trusts, and --safe.
func New(env *luax.Env) *lua.LState {
	L := lua.NewState(Options)
	luax.OpenProtected(L)
	luax.SetEnv(L, env)
	openBase(L, env)
	openViews(L)
	openStdio(L, env)
	installRequire(L, env)
	openCompat(L)
	for _, m := range newModules() {
		L.PreloadModule(m.Name, m.Loader)
		if err := luax.CallByParam(L, lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(m.Name)); err == nil {
			L.SetGlobal(m.Name, L.Get(-1))
			L.Pop(1)
		} else {
			// A module that fails to load is reported when used, not at start.
			L.SetGlobal(m.Name, lua.LNil)
		}
	}
	if env.Safe {
		makeSafe(L)
	}
	return L
}

// NewChild builds the state of a chunk run inside a container (c:run,
// ns.run): New with the parent's mode, the process's own stdio (the pipes
// to the parent, which escapes what it shows), and no module files.
func NewChild(safe bool) *lua.LState {
	return New(&luax.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Safe: safe, InContainer: true})
}

// safeOS are the functions of os that --safe keeps: time only.
var safeOS = map[string]bool{"time": true, "clock": true, "date": true, "difftime": true}

// safeIO are the members of io that --safe keeps: writing to ctrsh's own
// standard output and error.
var safeIO = []string{"write", "flush", "stdout", "stderr"}

// makeSafe removes what lets a script reach outside ctrsh's read-only API:
// files, processes, the environment, loading code at run time, and the
// debug library. (What changes or enters a container, and net, refuse
// themselves: luax.Func.Unsafe.) What is gone raises "... is not available
// with --safe" when used, so the script's author learns why.
func makeSafe(L *lua.LState) {
	disabled := func(name string) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s is not available with --safe", name)
			return 0
		})
	}
	for _, g := range []string{"load", "loadstring", "loadfile", "dofile"} {
		L.SetGlobal(g, disabled(g))
	}
	stub := func(lib, doc string, keep []string) *lua.LTable {
		t := L.NewTable()
		if orig, ok := L.GetGlobal(lib).(*lua.LTable); ok {
			for _, k := range keep {
				t.RawSetString(k, orig.RawGetString(k))
			}
		}
		mt := L.NewTable()
		mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s.%s is not available with --safe", lib, L.CheckString(2))
			return 0
		}))
		L.SetMetatable(t, mt)
		luax.SetDoc(L, t, doc)
		L.SetGlobal(lib, t)
		return t
	}
	ioT := stub("io", "io: with --safe, only io.write, io.stdout and io.stderr (ctrsh's own output)", safeIO)
	debugT := stub("debug", "debug: not available with --safe", nil)
	if os, ok := L.GetGlobal("os").(*lua.LTable); ok {
		var names []string
		os.ForEach(func(k, _ lua.LValue) { names = append(names, k.String()) })
		for _, f := range names {
			if !safeOS[f] {
				os.RawSetString(f, disabled("os."+f))
			}
		}
	}
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		pkg.RawSetString("loadlib", disabled("package.loadlib"))
		if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
			loaded.RawSetString("io", ioT)
			loaded.RawSetString("debug", debugT)
		}
	}
}
