package docker

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// engineFor is the engine of L for a call that falls back to the state on
// disk: an engine that does not answer is returned without an error (the
// call finds out and falls back).
func engineFor(L *lua.LState) (*Engine, error) {
	e, err := Client(L)
	if e != nil && NotAnswering(err) {
		return e, nil
	}
	return e, err
}

// announce says on L's stderr, once, that the engine does not answer and
// its state is read from disk (and, once, that it answers again).
func announce(L *lua.LState, e *Engine) {
	if e == nil {
		return
	}
	for _, msg := range e.Notices() {
		fmt.Fprintf(luax.GetEnv(L).Stderr, "ctrsh: %s\n", msg)
	}
}

// needsEngine is the error of what a container read from disk cannot do.
func (c *Container) needsEngine(what string) error {
	cause := c.engine.Down()
	if cause == nil {
		cause = fmt.Errorf("it was read from disk (%s); c:refresh() reads it from the engine again", c.dataRoot)
	}
	return fmt.Errorf("engine not answering: %s: %s needs the engine: %w", c.Subject(), what, cause)
}

// info is Info bounded by CallTimeout.
func (e *Engine) info(ctx context.Context) (res client.SystemInfoResult, err error) {
	err = e.call(ctx, CallTimeout, func(ctx context.Context) error {
		res, err = e.Info(ctx, client.InfoOptions{})
		return err
	})
	return res, err
}

func optString(s string) lua.LValue {
	if s == "" {
		return lua.LNil
	}
	return lua.LString(s)
}
