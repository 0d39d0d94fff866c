// Package docker is the docker Lua module: containers through the Docker
// Engine API (github.com/moby/moby/client). The engine client is created
// lazily, once per Lua state, negotiates the API version, and is shared
// with the events and logs modules through Client.
package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// DialTimeout bounds connecting to the engine, and PingTimeout the first
// request (API version negotiation), so that a stopped engine or a wrong
// host fails within 2 s instead of hanging.
var (
	DialTimeout = 1500 * time.Millisecond
	PingTimeout = 2 * time.Second
)

// Engine is the engine client of one Lua state, with the host it talks to.
type Engine struct {
	Host string // as given: "unix:///run/docker.sock", "tcp://..."
	*client.Client

	mu         sync.Mutex
	negotiated bool
}

const engineKey = "ctrsh.docker.engine"

// Host is the engine endpoint of L: the Env's DockerHost, else DOCKER_HOST,
// else the default socket.
func Host(L *lua.LState) string {
	if h := luax.GetEnv(L).DockerHost; h != "" {
		return h
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return client.DefaultDockerHost
}

// Client returns the engine client of L, creating it on first use and
// negotiating the API version (a ping bounded by PingTimeout). The error
// names the host: `docker engine unix:///x.sock: not reachable: ...`.
func Client(L *lua.LState) (*Engine, error) {
	var e *Engine
	if ud, ok := L.G.Registry.RawGetString(engineKey).(*lua.LUserData); ok {
		e, _ = ud.Value.(*Engine)
	}
	if e == nil {
		var err error
		if e, err = NewEngine(Host(L)); err != nil {
			return nil, err
		}
		ud := L.NewUserData()
		ud.Value = e
		L.G.Registry.RawSetString(engineKey, ud)
	}
	if err := e.Negotiate(luax.Ctx(L)); err != nil {
		return nil, err
	}
	return e, nil
}

// NewEngine returns a client for host that dials with DialTimeout. It does
// not connect yet.
func NewEngine(host string) (*Engine, error) {
	u, err := client.ParseHostURL(host)
	if err != nil {
		return nil, fmt.Errorf("docker engine %s: %w", host, err)
	}
	proto, addr := u.Scheme, u.Host
	dialer := &net.Dialer{Timeout: DialTimeout}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, proto, addr)
	}
	cli, err := client.New(client.WithHost(host), client.WithDialContext(dial))
	if err != nil {
		return nil, fmt.Errorf("docker engine %s: %w", host, err)
	}
	return &Engine{Host: host, Client: cli}, nil
}

// Negotiate pings the engine once (until it succeeds) to settle the API
// version, within PingTimeout.
func (e *Engine) Negotiate(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.negotiated {
		return nil
	}
	if err := e.Ping(ctx); err != nil {
		return err
	}
	e.negotiated = true
	return nil
}

// Ping checks that the engine answers, within PingTimeout, negotiating the
// API version if that was not done yet.
func (e *Engine) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	_, err := e.Client.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		return e.Err(err)
	}
	return nil
}

// Err names the engine in an error about reaching it; other errors (from
// the engine itself) are returned as they are.
func (e *Engine) Err(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ne net.Error
	if client.IsErrConnectionFailed(err) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("docker engine %s: not reachable: %s", e.Host, cause(err))
	}
	return err
}

// cause strips the client's generic "Cannot connect..." prefix down to the
// dial error when there is one.
func cause(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within " + PingTimeout.String()
	}
	return err.Error()
}

// ContainerErr is the error of an engine call about container subject
// (`container "web"`): the engine's "No such container" becomes `container
// "web": no such container`, unreachable engines are named.
func (e *Engine) ContainerErr(subject string, err error) error {
	if err == nil {
		return nil
	}
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%s: no such container", subject)
	}
	err = e.Err(err)
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "Error response from daemon: ")
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", subject, err)
	}
	return fmt.Errorf("%s: %s", subject, msg)
}
