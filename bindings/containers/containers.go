// Package containers is the containers Lua module: one view of the
// containers of every runtime on the host — the Docker Engine (or Podman's
// Docker-compatible socket) through the docker module, and a Kubernetes
// node's CRI runtime (containerd, CRI-O) through the cri module — as the
// one Container type, with c.runtime and, where known, c.pod. Playbooks
// written with it run unchanged on a Docker host and on a Kubernetes node.
package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Runtime is one runtime found on the host.
type Runtime struct {
	// Name is the runtime's name as containers carry it in c.runtime
	// ("docker", "containerd", ...); the engine's name until it answered.
	Name string
	// Kind is "docker" (the docker module's engine) or "cri".
	Kind string
	// Endpoint is its socket.
	Endpoint string
	// Err is set when the runtime was found (named, or its socket is
	// there) but cannot be asked; List and Lookup then return it.
	Err error
	// Down is set when the runtime does not answer and its containers are
	// read from its state on disk (c.source == "disk").
	Down error

	list   func(ctx context.Context, o ListOptions) ([]*docker.Container, error)
	lookup func(ctx context.Context, ref string) (*docker.Container, error)
	// events is its event stream (nil: none, when read from disk).
	events func(o events.Options) events.Source
	// announce says on L's stderr what the docker module says of an
	// engine that stopped or started answering (once each).
	announce func(L *lua.LState)
}

// Announce says, after a call, what the runtimes found out about their
// engines (docker.Announce): that one does not answer and its state is read
// from disk, or answers again.
func Announce(L *lua.LState, rts []*Runtime) {
	for _, rt := range rts {
		if rt.announce != nil {
			rt.announce(L)
		}
	}
}

// ListOptions select the containers of List: docker ps semantics, plus the
// filters pod, namespace and runtime.
type ListOptions struct {
	All     bool
	Filters map[string][]string
}

// FilterKeys are the filters containers.list knows: docker ps's, and pod,
// namespace (the Kubernetes pod's) and runtime.
var FilterKeys = []string{"ancestor", "before", "exited", "expose", "health", "id", "isolation", "is-task",
	"label", "name", "network", "publish", "since", "status", "volume", "pod", "namespace", "runtime"}

// own are the filters this package applies itself (the engines do not
// know them).
var own = map[string]bool{"pod": true, "namespace": true, "runtime": true}

// Runtimes finds the runtimes of L's host: the Docker Engine when it is
// named (--host, DOCKER_HOST) or its default socket is there, and the CRI
// runtime when it is named (--cri, CONTAINER_RUNTIME_ENDPOINT) or one of
// the usual sockets is one. A CRI runtime that does not answer is read
// from its state on disk (cri.DiskRuntime).
func Runtimes(L *lua.LState) []*Runtime {
	var out []*Runtime
	out = append(out, dockerRuntime(L)...)
	if rt := criRuntime(L); rt != nil {
		out = append(out, rt)
	}
	return out
}

func dockerRuntime(L *lua.LState) []*Runtime {
	host := docker.Host(L) // --host, DOCKER_HOST, else Docker's socket, else Podman's
	explicit := luax.GetEnv(L).DockerHost != "" || os.Getenv("DOCKER_HOST") != ""
	if !explicit && !isSocket(host) {
		return nil
	}
	rt := &Runtime{Name: "docker", Kind: "docker", Endpoint: host}
	if host == "unix://"+docker.PodmanSocket {
		rt.Name = "podman" // until it says (it may not answer)
	}
	e, err := docker.Client(L)
	engineRuntime(L, rt, e, err)
	out := []*Runtime{rt}
	// Podman beside Docker: both are asked.
	if podman := "unix://" + docker.PodmanSocket; !explicit && host != podman && isSocket(podman) {
		p := &Runtime{Name: "podman", Kind: "docker", Endpoint: podman}
		e, err := podmanEngine(L, podman)
		engineRuntime(L, p, e, err)
		out = append(out, p)
	}
	return out
}

// engineRuntime sets rt up for engine e (err: how its negotiation went).
// An engine that does not answer is read from its state on disk (the docker
// module's fallback): rt.Down says so.
func engineRuntime(L *lua.LState, rt *Runtime, e *docker.Engine, err error) {
	if e == nil || (err != nil && !docker.NotAnswering(err)) {
		rt.Err = err
		return
	}
	rt.Down = err
	rt.announce = func(L *lua.LState) { docker.Announce(L, e) }
	if rt.Down == nil {
		rt.Name = e.Runtime()
		rt.events = func(o events.Options) events.Source { return events.EngineSource(e, o) }
	}
	rt.list = func(ctx context.Context, o ListOptions) ([]*docker.Container, error) {
		f := map[string][]string{}
		for k, vs := range o.Filters {
			if !own[k] {
				f[k] = vs
			}
		}
		return docker.List(ctx, e, docker.ListOptions{All: o.All, Filters: f})
	}
	rt.lookup = func(ctx context.Context, ref string) (*docker.Container, error) {
		return docker.Lookup(ctx, e, ref)
	}
}

const podmanKey = "ctrsh.containers.podman"

// podmanEngine is L's client of Podman's socket when Docker's is the
// docker module's: made once, negotiated on each use as docker.Client is.
func podmanEngine(L *lua.LState, host string) (*docker.Engine, error) {
	var e *docker.Engine
	if ud, ok := L.G.Registry.RawGetString(podmanKey).(*lua.LUserData); ok {
		e, _ = ud.Value.(*docker.Engine)
	}
	if e == nil {
		var err error
		if e, err = docker.NewEngine(host); err != nil {
			return nil, err
		}
		ud := L.NewUserData()
		ud.Value = e
		L.G.Registry.RawSetString(podmanKey, ud)
	}
	return e, e.Negotiate(luax.Ctx(L))
}

// isSocket reports whether a unix:// endpoint's socket is there.
func isSocket(endpoint string) bool {
	path, ok := strings.CutPrefix(endpoint, "unix://")
	if !ok {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

func criRuntime(L *lua.LState) *Runtime {
	c, err := cri.ClientL(L)
	if err != nil {
		if errors.Is(err, cri.ErrNoRuntime) {
			return nil
		}
		var fe *cri.FailureError
		if errors.As(err, &fe) {
			if d := cri.DiskRuntime(luax.HostRoot(L), fe.Endpoint, err); d != nil {
				return &Runtime{Name: d.Runtime, Kind: "cri", Endpoint: fe.Endpoint, Down: err,
					list: func(ctx context.Context, o ListOptions) ([]*docker.Container, error) {
						return d.List(ctx, cri.ListOptions{All: o.All, Filters: criFilters(o.Filters)})
					},
					lookup: d.Lookup,
				}
			}
			return &Runtime{Name: "cri", Kind: "cri", Endpoint: fe.Endpoint, Err: err}
		}
		return &Runtime{Name: "cri", Kind: "cri", Err: err}
	}
	return &Runtime{Name: c.Runtime, Kind: "cri", Endpoint: c.Endpoint,
		list: func(ctx context.Context, o ListOptions) ([]*docker.Container, error) {
			return c.List(ctx, cri.ListOptions{All: o.All, Filters: criFilters(o.Filters)})
		},
		lookup: c.Lookup,
		events: c.EventSource,
	}
}

// criFilters are the filters the cri module applies (runtime is this
// package's).
func criFilters(f map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, vs := range f {
		if k != "runtime" {
			out[k] = vs
		}
	}
	return out
}

// List lists the containers of every runtime, in parallel. The error of a
// runtime that fails is in errs (named by the runtime); the containers of
// the others are returned.
func List(ctx context.Context, rts []*Runtime, o ListOptions) (list []*docker.Container, errs []error) {
	parts := make([][]*docker.Container, len(rts))
	perr := make([]error, len(rts))
	var wg sync.WaitGroup
	for i, rt := range rts {
		if vs := o.Filters["runtime"]; len(vs) > 0 && !containsRuntime(vs, rt) {
			continue
		}
		if rt.Err != nil {
			perr[i] = rt.Err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], perr[i] = rt.list(ctx, o)
		}()
	}
	wg.Wait()
	for i := range rts {
		if perr[i] != nil {
			errs = append(errs, perr[i])
		}
		for _, c := range parts[i] {
			if keep(o.Filters, c) {
				list = append(list, c)
			}
		}
	}
	return list, errs
}

func containsRuntime(vs []string, rt *Runtime) bool {
	for _, v := range vs {
		if v == rt.Name || v == rt.Kind {
			return true
		}
	}
	return false
}

// keep applies the filters this package owns to c.
func keep(f map[string][]string, c *docker.Container) bool {
	if vs := f["runtime"]; len(vs) > 0 && !contains(vs, c.Runtime) {
		return false
	}
	p := c.PodOf()
	if vs := f["pod"]; len(vs) > 0 && (p == nil || !contains(vs, p.Name)) {
		return false
	}
	if vs := f["namespace"]; len(vs) > 0 && (p == nil || !contains(vs, p.Namespace)) {
		return false
	}
	return true
}

func contains(vs []string, s string) bool {
	for _, v := range vs {
		if v == s {
			return true
		}
	}
	return false
}

// Get finds the container ref names in every runtime. A ref may name its
// runtime as Kubernetes does in a pod's status: "containerd://<id>",
// "cri-o://<id>", "docker://<id>". A name found in two runtimes is an
// error naming both (ErrAmbiguous).
func Get(ctx context.Context, rts []*Runtime, ref string) (*docker.Container, error) {
	subject := fmt.Sprintf("container %q", ref)
	if name, id, ok := strings.Cut(ref, "://"); ok {
		for _, rt := range rts {
			if rt.Name == name || rt.Kind == name {
				if rt.Err != nil {
					return nil, fmt.Errorf("%s: %w", subject, rt.Err)
				}
				return rt.lookup(ctx, id)
			}
		}
		return nil, fmt.Errorf("%s: no runtime %q on this host (found: %s)", subject, name, names(rts))
	}
	type hit struct {
		rt *Runtime
		c  *docker.Container
	}
	hits := make([]*hit, len(rts))
	errs := make([]error, len(rts))
	var wg sync.WaitGroup
	for i, rt := range rts {
		if rt.Err != nil {
			errs[i] = rt.Err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := rt.lookup(ctx, ref)
			switch {
			case err == nil:
				hits[i] = &hit{rt, c}
			case errors.Is(err, docker.ErrNoSuchContainer):
			default:
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	var found []*hit
	for _, h := range hits {
		if h != nil {
			found = append(found, h)
		}
	}
	if len(found) > 1 {
		var cands []string
		for _, h := range found {
			name := h.c.Name
			if p := h.c.PodOf(); p != nil {
				name = p.String() + "/" + name
			}
			cands = append(cands, fmt.Sprintf("%s (%.12s %s)", h.c.Runtime, h.c.ID, name))
		}
		sort.Strings(cands)
		return nil, fmt.Errorf("%s: %w: in %s; name one with its id, or RUNTIME://ID", subject, docker.ErrAmbiguous, strings.Join(cands, " and "))
	}
	for _, err := range errs {
		// An ambiguous prefix within one runtime, or a runtime that failed,
		// counts even when another runtime found one.
		if err != nil && (errors.Is(err, docker.ErrAmbiguous) || len(found) == 0) {
			return nil, err
		}
	}
	if len(found) == 1 {
		return found[0].c, nil
	}
	if len(rts) == 0 {
		return nil, fmt.Errorf("%s: no container runtime found on this host (no Docker socket, no CRI runtime)", subject)
	}
	if len(rts) == 1 {
		return nil, fmt.Errorf("%s: %w", subject, docker.ErrNoSuchContainer)
	}
	return nil, fmt.Errorf("%s: %w (looked in %s)", subject, docker.ErrNoSuchContainer, names(rts))
}

func names(rts []*Runtime) string {
	var out []string
	for _, rt := range rts {
		out = append(out, rt.Name)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
