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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	runtime    string      // "docker" or "podman", learnt at negotiation
	podman     atomic.Bool // an answer came from Podman (sawResponse)

	health   health // whether it answers (answer.go)
	disk     diskState
	hostRoot string // where /proc and the data root are read: "/" but in tests
}

const engineKey = "ctrsh.docker.engine"

// Host is the engine endpoint of L: the Env's DockerHost (--host), else
// DOCKER_HOST, else the socket DefaultHost finds.
func Host(L *lua.LState) string {
	if h := luax.GetEnv(L).DockerHost; h != "" {
		return h
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return DefaultHost()
}

// PodmanSocket is where a rootful Podman serves the Docker API
// (podman.socket, podman system service).
const PodmanSocket = "/run/podman/podman.sock"

// DefaultHost is the engine to use when none is named: Docker's socket
// /var/run/docker.sock when it exists; else Podman's /run/podman/podman.sock
// when it exists; else, not as root, the rootless Podman's
// $XDG_RUNTIME_DIR/podman/podman.sock when it exists; else Docker's
// socket (whose absence the first call then reports).
func DefaultHost() string {
	if _, err := os.Stat(strings.TrimPrefix(client.DefaultDockerHost, "unix://")); err == nil {
		return client.DefaultDockerHost
	}
	if _, err := os.Stat(PodmanSocket); err == nil {
		return "unix://" + PodmanSocket
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && os.Geteuid() != 0 {
		p := filepath.Join(d, "podman", "podman.sock")
		if _, err := os.Stat(p); err == nil {
			return "unix://" + p
		}
	}
	return client.DefaultDockerHost
}

// Client returns the engine client of L, creating it on first use and
// negotiating the API version (a ping bounded by PingTimeout). The error
// names the host: `docker engine unix:///x.sock: not reachable: ...`.
func Client(L *lua.LState) (*Engine, error) {
	e, err := engineOf(L)
	if err != nil {
		return nil, err
	}
	if err := e.Negotiate(luax.Ctx(L)); err != nil {
		// The engine is returned too: a caller may read its state on disk.
		return e, err
	}
	return e, nil
}

// engineOf is L's engine client, made on first use, without a call to
// the engine yet.
func engineOf(L *lua.LState) (*Engine, error) {
	if ud, ok := L.G.Registry.RawGetString(engineKey).(*lua.LUserData); ok {
		if e, _ := ud.Value.(*Engine); e != nil {
			return e, nil
		}
	}
	e, err := NewEngine(Host(L))
	if err != nil {
		return nil, err
	}
	e.hostRoot = luax.HostRoot(L)
	ud := L.NewUserData()
	ud.Value = e
	L.G.Registry.RawSetString(engineKey, ud)
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
	e := &Engine{Host: host, hostRoot: "/"}
	cli, err := client.New(client.WithHost(host), client.WithDialContext(dial), client.WithHTTPResponseHook(e.sawResponse))
	if err != nil {
		return nil, fmt.Errorf("docker engine %s: %w", host, err)
	}
	e.Client = cli
	return e, nil
}

// sawResponse notes which engine answered from its headers: Podman's
// Docker-compatible API sends Libpod-Api-Version (and "Server: Libpod/...")
// with every answer, the ping's too, so no /version call is needed.
func (e *Engine) sawResponse(resp *http.Response) {
	if resp == nil || (resp.Header.Get("Libpod-Api-Version") == "" && !strings.HasPrefix(resp.Header.Get("Server"), "Libpod")) {
		return
	}
	e.podman.Store(true)
}

// Negotiate pings the engine once (until it succeeds) to settle the API
// version, within PingTimeout, and asks which engine it is (Docker or
// Podman). While it answers, the data root it reports is remembered (see
// dataroot.go) in the background.
func (e *Engine) Negotiate(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.negotiated {
		return e.Answering(ctx, ProbeGrace)
	}
	if err := e.Ping(ctx); err != nil {
		return err
	}
	e.runtime = "docker"
	if e.podman.Load() {
		e.runtime = "podman"
	}
	e.negotiated = true
	if e.runtime == "docker" {
		// Remembered once for good (a short run may end before a background
		// call returns), then checked again in the background now and then.
		switch rootsAge(e.Host) {
		case rootUnknown:
			e.rememberRoot()
		case rootStale:
			go e.rememberRoot()
		}
	}
	return nil
}

// Runtime is "docker" or "podman": the engine behind the socket, as its
// /version said ("docker" before it answered).
func (e *Engine) Runtime() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runtime == "" {
		return "docker"
	}
	return e.runtime
}

// Ping checks that the engine answers, within PingTimeout, negotiating the
// API version if that was not done yet.
func (e *Engine) Ping(ctx context.Context) error {
	return e.call(ctx, PingTimeout, func(ctx context.Context) error {
		_, err := e.Client.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		return err
	})
}

// Err names the engine in an error about reaching it; other errors (from
// the engine itself) are returned as they are.
func (e *Engine) Err(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || NotAnswering(err) {
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
	if isNotFound(err) {
		return fmt.Errorf("%s: no such container", subject)
	}
	err = e.Err(err)
	if NotAnswering(err) {
		return fmt.Errorf("%s: %w", subject, err)
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "Error response from daemon: ")
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", subject, err)
	}
	return fmt.Errorf("%s: %s", subject, msg)
}
