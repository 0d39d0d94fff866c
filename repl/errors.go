package repl

import (
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// errorText renders an error raised by a statement: the error value as Lua
// shows it ("stdin:1: boom"), and a traceback when it says more than the
// message does.
func errorText(L *lua.LState, err error) (msg, trace string) {
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		return err.Error(), ""
	}
	switch ae.Type {
	case lua.ApiErrorPanic:
		// A Go panic in a builtin, caught by PCall: a bug, but the shell
		// goes on.
		msg = "internal error: " + lua.LVAsString(ae.Object)
	default:
		msg = errorValue(L, ae.Object)
	}
	return msg, usefulTraceback(ae.StackTrace)
}

// errorValue is how lua.c shows an error value: strings and numbers as
// they are, values with __tostring through it, others by their type.
func errorValue(L *lua.LState, v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case nil:
		return "nil"
	}
	if _, ok := L.GetMetaField(v, "__tostring").(*lua.LFunction); ok {
		return luax.ToString(L, v)
	}
	return "(error object is a " + v.Type().String() + " value)"
}

// usefulTraceback returns gopher-lua's "stack traceback:" text without its
// noise, or "" when it shows no more than the error's own location (an
// error raised directly by the line typed at the prompt).
func usefulTraceback(trace string) string {
	lines := strings.Split(strings.TrimSpace(trace), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "stack traceback:" {
		return ""
	}
	var frames []string
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" || l == "[G]: ?" {
			continue
		}
		frames = append(frames, l)
	}
	// The Go function that raised (error, assert, a builtin's ArgError)
	// is named in the message already.
	for len(frames) > 0 && strings.HasPrefix(frames[0], "[G]:") {
		frames = frames[1:]
	}
	if len(frames) <= 1 {
		return ""
	}
	return "stack traceback:\n\t" + strings.Join(frames, "\n\t")
}
