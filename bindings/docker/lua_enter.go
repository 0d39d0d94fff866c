package docker

import (
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
)

// c:enter and c:run are the ns module's ns.enter and ns.run on the
// container's init, read fresh from the engine (a snapshot's PID may belong
// to a process that has since exited).
const (
	enterDoc = "c:enter(cmd, {ns=, join_cgroup=false, user=, workdir=, env=, capture=, stdin=}) --> {code=, stdout=, stderr=} | nil, err: run cmd inside the container's namespaces (native setns; no shell needed in the image)"
	runDoc   = "c:run(chunk, ...) --> the values the Lua chunk returns, evaluated by ctrsh inside the container's namespaces | nil, err"
)

// pinInit pins c's init, whose PID the engine reports: re-read from the
// engine when the snapshot has none, or always when fresh (entering must
// not use a PID whose process may have exited since the lookup), and once
// more when the snapshot's PID is no longer the container's. The caller
// closes the Pinned. A PID that is not the container's process on this
// host is refused (see Pin).
func pinInit(L *lua.LState, c *Container, fresh bool) (*Pinned, error) {
	defer announce(L, c.engine)
	refreshed := false
	if fresh || c.PID <= 0 {
		if err := c.Refresh(luax.Ctx(L)); err != nil {
			return nil, err
		}
		refreshed = true
	}
	if c.PID <= 0 {
		return nil, fmt.Errorf("%s: not running (%s)", c.Subject(), c.State)
	}
	p, err := c.Pin(luax.HostRoot(L), c.PID)
	if err != nil && !refreshed && (errors.Is(err, ErrNotItsProcess) || errors.Is(err, ErrProcessGone)) {
		return pinInit(L, c, true)
	}
	return p, err
}

// Target pins c's init as ns's Target (the caller closes it): what
// ns.enter("web", ...) and ns.of("web") act on.
func Target(L *lua.LState, c *Container) (ns.Target, error) {
	p, err := pinInit(L, c, false)
	if err != nil {
		return ns.Target{}, err
	}
	return target(c, p), nil
}

// target is the pinned init as ns's Target.
func target(c *Container, p *Pinned) ns.Target {
	return ns.Target{PID: p.PID, Pidfd: p.File(), Subject: c.Subject()}
}

// enter lua c:enter(cmd, opts) returns {code, stdout, stderr} | nil, err.
func containerEnter(L *lua.LState) int {
	c := Check(L, 1)
	p, err := pinInit(L, c, true)
	if err != nil {
		return luax.Fail(L, err)
	}
	defer p.Close()
	return ns.EnterLua(L, target(c, p), 2)
}

// run lua c:run(chunk, ...) returns the chunk's values | nil, err.
func containerRun(L *lua.LState) int {
	c := Check(L, 1)
	p, err := pinInit(L, c, true)
	if err != nil {
		return luax.Fail(L, err)
	}
	defer p.Close()
	return ns.RunLua(L, target(c, p), 2)
}
