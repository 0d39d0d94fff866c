// Package bindings builds the Lua state of ctrsh: the standard libraries,
// the helpers every run has (pp, emit, json, sleep, now, help, fail,
// playbook), and every ctrsh module, preloaded and set as a global.
package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Module is one preloaded ctrsh module.
type Module struct {
	Name   string
	Loader lua.LGFunction
}

// Modules lists the modules every state preloads and sets as globals.
var Modules = modules

// New builds a Lua state for one run (the shell, a script, a playbook).
func New(env *luax.Env) *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	luax.SetEnv(L, env)
	openBase(L, env)
	for _, m := range Modules {
		L.PreloadModule(m.Name, m.Loader)
		if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(m.Name)); err == nil {
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

// makeSafe removes what lets a script reach outside ctrsh's own API: files,
// processes, loading code at run time, and the debug library. What is gone
// raises "... is not available with --safe" when used, so the script's
// author learns why.
func makeSafe(L *lua.LState) {
	disabled := func(name string) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s is not available with --safe", name)
			return 0
		})
	}
	for _, g := range []string{"load", "loadstring", "loadfile", "dofile", "mkdir"} {
		L.SetGlobal(g, disabled(g))
	}
	for _, lib := range []string{"io", "debug"} {
		stub := L.NewTable()
		mt := L.NewTable()
		name := lib
		mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s.%s is not available with --safe", name, L.CheckString(2))
			return 0
		}))
		L.SetMetatable(stub, mt)
		L.SetGlobal(lib, stub)
	}
	if os, ok := L.GetGlobal("os").(*lua.LTable); ok {
		for _, f := range []string{"execute", "remove", "rename", "exit", "setenv", "tmpname"} {
			os.RawSetString(f, disabled("os."+f))
		}
	}
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		pkg.RawSetString("loadlib", disabled("package.loadlib"))
		if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
			loaded.RawSetString("io", L.GetGlobal("io"))
			loaded.RawSetString("debug", L.GetGlobal("debug"))
		}
	}
}
