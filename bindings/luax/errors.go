package luax

import (
	"context"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Fail pushes the runtime-failure form of the API contract, nil and a
// message, and returns 2: `return luax.Fail(L, err)`. A cancelled statement
// (Ctrl-C, --timeout) raises instead, so that it stops the script.
func Fail(L *lua.LState, err error) int {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		L.RaiseError("%s", ctx.Err().Error())
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(err.Error()))
	return 2
}

// Failf is Fail with a formatted message.
func Failf(L *lua.LState, format string, args ...any) int {
	return Fail(L, fmt.Errorf(format, args...))
}

// TypeName is the Lua type of argument n, "no value" when absent, as
// Lua's own "bad argument" messages name it.
func TypeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// Ctx is the context of the statement being run: cancelled by Ctrl-C in the
// shell, by --timeout and by SIGTERM in scripts. Never nil.
func Ctx(L *lua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// CheckCancel raises the context's error when the statement was cancelled.
// Long Go loops call it between steps.
func CheckCancel(L *lua.LState) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		L.RaiseError("%s", ctx.Err().Error())
	}
}
