package luax

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Audit records an action that changes or enters a container before it
// happens (phase "start") and returns the function that records its result
// (phase "end"). When the start record cannot be written and the log says
// that must stop the action (Env.Audit returns an error: as root), err is
// that error, "audit: ...", and the action must not happen:
//
//	done, err := luax.Audit(L, "exec", c.Name, map[string]any{"cmd": argv})
//	if err != nil {
//		return luax.Fail(L, err)
//	}
//	...
//	done(err, map[string]any{"code": code})
//
// A failure to write the end record is reported on the state's stderr.
func Audit(L *lua.LState, action, subject string, fields map[string]any) (done func(err error, result map[string]any), err error) {
	env := GetEnv(L)
	if env.Audit == nil {
		return func(error, map[string]any) {}, nil
	}
	start := map[string]any{"phase": "start"}
	for k, v := range fields {
		start[k] = v
	}
	if err := env.Audit(action, subject, start); err != nil {
		return nil, err
	}
	return func(err error, result map[string]any) {
		end := map[string]any{"phase": "end", "result": "ok"}
		for k, v := range result {
			end[k] = v
		}
		if err != nil {
			end["result"] = "error"
			end["error"] = err.Error()
		}
		if err := env.Audit(action, subject, end); err != nil && env.Stderr != nil {
			fmt.Fprintf(env.Stderr, "ctrsh: warning: %v\n", err)
		}
	}, nil
}
