package luax

import (
	lua "github.com/yuin/gopher-lua"
)

// Exit codes of DESIGN.md that Lua code can reach.
const (
	ExitOK       = 0
	ExitError    = 1  // a Lua error escaped the script
	ExitFinding  = 3  // fail(msg): the check ran and found a problem
	ExitUsage    = 64 // bad flags, unknown playbook, bad playbook arguments
	ExitSyntax   = 65 // the script does not compile
	ExitInternal = 70 // a Go panic caught at the boundary
	ExitLocked   = 75 // another run holds the lock
	ExitRefused  = 77 // not permitted
	ExitTimeout  = 124
)

// Exit is raised as a Lua error value to end the run with a given exit code
// and message: fail(msg) raises Exit{3, msg}, a bad playbook argument
// Exit{64, ...}, `--help` of a playbook Exit{0, ""}. pcall can catch it,
// as it can any error; uncaught, the command maps it to its code.
type Exit struct {
	Code int
	Msg  string
}

func (e *Exit) Error() string { return e.Msg }

const exitType = "ctrsh.Exit"

// RaiseExit raises an Exit as a Lua error.
func RaiseExit(L *lua.LState, code int, msg string) {
	mt := L.NewTypeMetatable(exitType)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		if e, ok := ud.Value.(*Exit); ok {
			L.Push(lua.LString(e.Msg))
			return 1
		}
		L.Push(lua.LString(exitType))
		return 1
	}))
	ud := L.NewUserData()
	ud.Value = &Exit{Code: code, Msg: msg}
	ud.Metatable = mt
	L.Error(ud, 0)
}

// AsExit returns the Exit carried by a Lua error value, if any.
func AsExit(v lua.LValue) (*Exit, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		e, ok := ud.Value.(*Exit)
		return e, ok
	}
	return nil, false
}
