package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// ErrNoRuntime is wrapped by the error of ClientL when no endpoint was
// named and none of DefaultEndpoints is a CRI runtime that answers.
var ErrNoRuntime = errors.New("no CRI runtime found")

// Endpoints is where L looks for a runtime, as crictl does: --cri, else
// CONTAINER_RUNTIME_ENDPOINT (explicit is true for both: that endpoint
// only, its failure reported), else DefaultEndpoints in order.
func Endpoints(L *lua.LState) (list []string, explicit bool) {
	return endpoints(luax.GetEnv(L).CRIEndpoint)
}

func endpoints(flag string) (list []string, explicit bool) {
	if flag != "" {
		return []string{flag}, true
	}
	if e := os.Getenv(EnvEndpoint); e != "" {
		return []string{e}, true
	}
	return DefaultEndpoints, false
}

const clientKey = "ctrsh.cri.client"

// ClientL returns L's client, connecting on first use: to the explicit
// endpoint, or to the first default socket that is a CRI runtime (a
// missing socket, or one that serves no CRI, like Docker's own
// containerd, is passed over). The error names what was tried; when a
// runtime's socket is there but the runtime does not answer, errors.As
// finds a *FailureError naming it (its state on disk may still be read).
func ClientL(L *lua.LState) (*Client, error) {
	if ud, ok := L.G.Registry.RawGetString(clientKey).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*Client); ok {
			return c, nil
		}
	}
	c, err := Find(luax.Ctx(L), luax.GetEnv(L).CRIEndpoint)
	if err != nil {
		return nil, err
	}
	c.HostRoot = luax.HostRoot(L)
	ud := L.NewUserData()
	ud.Value = c
	L.G.Registry.RawSetString(clientKey, ud)
	return c, nil
}

// Find connects to the runtime at endpoint (a --cri flag's value), else at
// CONTAINER_RUNTIME_ENDPOINT, else at the first default socket that is a
// CRI runtime: as ClientL, without a Lua state (ctrsh journal record).
func Find(ctx context.Context, endpoint string) (*Client, error) {
	list, explicit := endpoints(endpoint)
	if explicit {
		c, err := Dial(ctx, list[0])
		if err != nil {
			return nil, &FailureError{Endpoint: list[0], Err: err}
		}
		return c, nil
	}
	var tried []string
	var first *FailureError
	for _, ep := range list {
		path, _ := socketPath(ep)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		c, err := Dial(ctx, ep)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tried = append(tried, err.Error())
		if first == nil && !errors.Is(err, ErrNotCRI) {
			first = &FailureError{Endpoint: ep, Err: err}
		}
	}
	if first != nil {
		return nil, first
	}
	if len(tried) == 0 {
		return nil, fmt.Errorf("cri: %w (no socket at %s; --cri or %s names another)", ErrNoRuntime, strings.Join(list, ", "), EnvEndpoint)
	}
	return nil, fmt.Errorf("cri: %w (%s)", ErrNoRuntime, strings.Join(tried, "; "))
}

// FailureError is the error of the runtime that was to be used (the
// explicit endpoint, or the first default socket that is there and is not
// another API's) when it failed.
type FailureError struct {
	Endpoint string
	Err      error
}

func (e *FailureError) Error() string { return e.Err.Error() }
func (e *FailureError) Unwrap() error { return e.Err }
