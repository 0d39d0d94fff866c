package containers

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
)

// Resolver finds the container a reference names in every runtime of L's
// host (Get): bindings.New gives it to the modules that take container
// references — proc (p:container(), proc.list{container=}), ns (ns.enter
// ("web")), logs (logs.read("web")) and trace (container=) — as the small
// interface each of them defines. docker.container stays the engine's.
type Resolver struct{}

// Lookup finds the container ref names, saying on L's stderr what the
// runtimes found out about their engines.
func (Resolver) Lookup(L *lua.LState, ref string) (*docker.Container, error) {
	rts := Runtimes(L)
	defer Announce(L, rts)
	return Get(luax.Ctx(L), rts, ref)
}

// LookupFunc is Lookup for use off L's goroutine: the runtimes are found
// on L's, the lookups may run anywhere (a trace's reader names the
// containers it meets).
func (Resolver) LookupFunc(L *lua.LState) func(ctx context.Context, ref string) (*docker.Container, error) {
	rts := Runtimes(L)
	return func(ctx context.Context, ref string) (*docker.Container, error) { return Get(ctx, rts, ref) }
}

// PushContainer pushes the Container whose id is id, or nil and a message
// (proc's p:container()).
func (r Resolver) PushContainer(L *lua.LState, id string) int {
	c, err := r.Lookup(L, id)
	if err != nil {
		return luax.Fail(L, err)
	}
	docker.Push(L, c)
	return 1
}

// ContainerID turns a name or id prefix into the container's full id
// (proc.list{container="web"}).
func (r Resolver) ContainerID(L *lua.LState, ref string) (string, error) {
	c, err := r.Lookup(L, ref)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// Target is the container's init, pinned and checked to be the
// container's (ns.enter("web", ...), ns.of("web")).
func (r Resolver) Target(L *lua.LState, ref string) (ns.Target, error) {
	c, err := r.Lookup(L, ref)
	if err != nil {
		return ns.Target{}, err
	}
	return docker.Target(L, c)
}
