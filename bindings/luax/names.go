package luax

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Function returns fn as a Lua function whose argument errors name it the
// way Lua's own libraries do: `bad argument #1 to 'docker.containers'
// (table expected, got number)`.
//
// gopher-lua's ArgError and TypeError (and every L.CheckX built on them)
// name the function after the expression that called it, read from the
// caller's debug info: `containers` for `docker.containers(1)`, and
// `(anonymous)` when the caller is not Lua code (pcall, an iterator's
// for loop, a call from Go). The wrapper rewrites the message of an argument
// error raised by fn's own frame; an error from a function fn calls in turn
// (a callback, a nested module function) keeps the name that one gave it.
// NewModule, SetFuncs and Type.Register wrap every function they register,
// so modules name nothing per call: "module.function", and globals and
// methods as their docs begin ("sleep", "c:logs", "conn:read"; that is
// also how help() and --safe name them).
func Function(L *lua.LState, name string, fn lua.LGFunction) *lua.LFunction {
	return named(L, name, false, fn)
}

// MethodFunction is Function for a method of a userdata type, named
// "c:logs". Its argument numbers count from the first argument after self,
// as Lua numbers them for a call written c:logs(...), and a bad self reads
// `calling 'c:logs' on bad self (...)`.
func MethodFunction(L *lua.LState, name string, fn lua.LGFunction) *lua.LFunction {
	return named(L, name, true, fn)
}

func named(L *lua.LState, name string, method bool, fn lua.LGFunction) *lua.LFunction {
	var self *lua.LFunction
	self = L.NewFunction(func(L *lua.LState) int {
		defer func() {
			if r := recover(); r != nil {
				renameArgError(L, self, name, method, r)
				panic(r)
			}
		}()
		return fn(L)
	})
	return self
}

// renameArgError rewrites, in place, the message of an argument error that
// self raised (r is what gopher-lua panics with: an *lua.ApiError whose
// Object is the message, "chunk:3: bad argument #1 to NAME (...)").
func renameArgError(L *lua.LState, self *lua.LFunction, name string, method bool, r any) {
	apiErr, ok := r.(*lua.ApiError)
	if !ok {
		return
	}
	msg, ok := apiErr.Object.(lua.LString)
	if !ok {
		return
	}
	// The frames are not unwound yet: the current one raised the error.
	dbg, ok := L.GetStack(0)
	if !ok {
		return
	}
	if f, err := L.GetInfo("fn", dbg, lua.LNil); err != nil || f != self {
		return
	}
	if s, ok := rewriteArgError(string(msg), dbg.Name, name, method); ok {
		apiErr.Object = lua.LString(s)
	}
}

// rewriteArgError replaces gopher-lua's name for the function (raw, as
// ArgError wrote it) by the quoted name in an argument error message; for a
// method the argument number drops by one (self is not counted).
func rewriteArgError(msg, raw, name string, method bool) (string, bool) {
	const bad = "bad argument #"
	i := strings.Index(msg, bad)
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(bad):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(rest[:j])
	to := " to " + raw + " ("
	if err != nil || !strings.HasPrefix(rest[j:], to) {
		return "", false
	}
	detail := rest[j+len(to):] // "table expected, got number)"
	if method {
		n--
	}
	if n <= 0 {
		return msg[:i] + "calling '" + name + "' on bad self (" + detail, true
	}
	return msg[:i] + bad + strconv.Itoa(n) + " to '" + name + "' (" + detail, true
}
