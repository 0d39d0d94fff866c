package luax

import (
	lua "github.com/yuin/gopher-lua"
)

// Audit records an action that changes or enters a container before it
// happens (phase "start") and returns the function that records its result
// (phase "end"): `done := luax.Audit(L, "exec", c.Name, map[string]any{"cmd": argv}); ...; done(err, map[string]any{"code": code})`.
func Audit(L *lua.LState, action, subject string, fields map[string]any) (done func(err error, result map[string]any)) {
	env := GetEnv(L)
	if env.Audit == nil {
		return func(error, map[string]any) {}
	}
	start := map[string]any{"phase": "start"}
	for k, v := range fields {
		start[k] = v
	}
	env.Audit(action, subject, start)
	return func(err error, result map[string]any) {
		end := map[string]any{"phase": "end", "result": "ok"}
		for k, v := range result {
			end[k] = v
		}
		if err != nil {
			end["result"] = "error"
			end["error"] = err.Error()
		}
		env.Audit(action, subject, end)
	}
}
