package docker

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
)

// c:enter and c:run are the ns module's ns.enter and ns.run on the
// container's init, read fresh from the engine (a snapshot's PID may belong
// to a process that has since exited).
func init() {
	containerType.Methods = append(containerType.Methods,
		luax.Func{
			Name: "enter",
			Doc:  "c:enter(cmd, {ns=, join_cgroup=false, user=, workdir=, env=, capture=, stdin=}) --> {code=, stdout=, stderr=} | nil, err: run cmd inside the container's namespaces (native setns; no shell needed in the image)",
			Fn:   containerEnter,
		},
		luax.Func{
			Name: "run",
			Doc:  "c:run(chunk, ...) --> the values the Lua chunk returns, evaluated by ctrsh inside the container's namespaces | nil, err",
			Fn:   containerRun,
		},
	)
}

// runningPID returns the PID of c's init, re-read from the engine when the
// snapshot has none, or always when fresh (entering must not use a PID
// whose process may have exited since the lookup).
func runningPID(L *lua.LState, c *Container, fresh bool) (int, error) {
	if fresh || c.PID <= 0 {
		if err := c.Refresh(luax.Ctx(L)); err != nil {
			return 0, err
		}
	}
	if c.PID <= 0 {
		return 0, fmt.Errorf("%s: not running (%s)", c.Subject(), c.State)
	}
	return c.PID, nil
}

// enter lua c:enter(cmd, opts) returns {code, stdout, stderr} | nil, err.
func containerEnter(L *lua.LState) int {
	c := Check(L, 1)
	pid, err := runningPID(L, c, true)
	if err != nil {
		return luax.Fail(L, err)
	}
	return ns.EnterLua(L, pid, c.Subject(), 2)
}

// run lua c:run(chunk, ...) returns the chunk's values | nil, err.
func containerRun(L *lua.LState) int {
	c := Check(L, 1)
	pid, err := runningPID(L, c, true)
	if err != nil {
		return luax.Fail(L, err)
	}
	return ns.RunLua(L, pid, c.Subject(), 2)
}
