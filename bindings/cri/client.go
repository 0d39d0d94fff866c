// Package cri is the cri Lua module: the containers and pods of a
// Kubernetes node's runtime (containerd, CRI-O) through the Container
// Runtime Interface (k8s.io/cri-api, gRPC over a unix socket), as crictl
// reaches them. Its containers are the docker module's Container type,
// served by Ops: everything that works on the host side (top, stats, ns,
// cgroup, enter, run, trace) is the same code for every runtime.
package cri

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// DefaultEndpoints are the sockets tried, in this order, when no endpoint
// is named: containerd's, CRI-O's (crictl's order) and k3s's containerd.
// (crictl's third, cri-dockerd, is the Docker Engine: the docker module's.)
var DefaultEndpoints = []string{
	"unix:///run/containerd/containerd.sock",
	"unix:///run/crio/crio.sock",
	"unix:///run/k3s/containerd/containerd.sock",
}

// EnvEndpoint is crictl's variable for the endpoint.
const EnvEndpoint = "CONTAINER_RUNTIME_ENDPOINT"

// Timeouts. DialTimeout bounds connecting and the first call (Version),
// so that a socket that is not a CRI runtime, or a hung one, fails fast;
// CallTimeout bounds every other call (each has its own deadline under the
// caller's context), as cri-client's remote runtime does.
var (
	DialTimeout = 2 * time.Second
	CallTimeout = 10 * time.Second
)

// maxMsgSize is crictl's limit on a message (a verbose status of a big
// spec).
const maxMsgSize = 16 << 20

// ErrNotCRI is wrapped by the error of Dial when the socket answers but
// does not serve the CRI (Docker's own containerd, with its CRI plugin
// disabled, is one).
var ErrNotCRI = errors.New("not a CRI runtime")

// ErrNotReachable is wrapped by the errors of a runtime that does not
// answer: no socket, refused, or no answer within the deadline.
var ErrNotReachable = errors.New("not reachable")

// Client is a connection to one CRI runtime.
type Client struct {
	Endpoint string // "unix:///run/containerd/containerd.sock"
	// Runtime is the runtime's name in ctrsh's words: "containerd",
	// "cri-o", or what the runtime calls itself, lower case.
	Runtime        string
	RuntimeVersion string
	APIVersion     string

	// HostRoot is where /proc is read to pin a container's init ("/", or a
	// fixture tree in tests).
	HostRoot string

	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
	ev   *eventMode
}

// socketPath is the path of a unix endpoint: "unix:///path" or "/path".
func socketPath(endpoint string) (string, error) {
	switch {
	case strings.HasPrefix(endpoint, "unix://"):
		p := strings.TrimPrefix(endpoint, "unix://")
		if p == "" {
			return "", fmt.Errorf("cri %s: no socket path", endpoint)
		}
		return p, nil
	case strings.HasPrefix(endpoint, "/"):
		return endpoint, nil
	}
	return "", fmt.Errorf("cri %s: only unix sockets are supported (unix:///path)", endpoint)
}

// Dial connects to the runtime at endpoint and asks its Version, within
// DialTimeout: a socket that is missing, hung or not a CRI runtime fails
// here, with an error naming the endpoint.
func Dial(ctx context.Context, endpoint string) (*Client, error) {
	path, err := socketPath(endpoint)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(endpoint, "unix://") {
		endpoint = "unix://" + path
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("cri %s: %w: %v", endpoint, ErrNotReachable, err)
	}
	dialer := &net.Dialer{Timeout: DialTimeout}
	conn, err := grpc.NewClient("passthrough:///"+path,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("cri %s: %w", endpoint, err)
	}
	c := &Client{Endpoint: endpoint, HostRoot: "/", conn: conn, rt: runtimeapi.NewRuntimeServiceClient(conn), ev: &eventMode{}}
	vctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	v, err := c.rt.Version(vctx, &runtimeapi.VersionRequest{Version: "v1"}, grpc.WaitForReady(false))
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if status.Code(err) == codes.Unimplemented {
			return nil, fmt.Errorf("cri %s: %w (it does not serve runtime.v1: %s)", endpoint, ErrNotCRI, status.Convert(err).Message())
		}
		return nil, c.err(ctx, err)
	}
	if v.GetRuntimeName() == "" {
		conn.Close()
		return nil, fmt.Errorf("cri %s: %w (its Version names no runtime)", endpoint, ErrNotCRI)
	}
	c.Runtime = runtimeName(v.GetRuntimeName())
	c.RuntimeVersion = v.GetRuntimeVersion()
	c.APIVersion = v.GetRuntimeApiVersion()
	return c, nil
}

// runtimeName is what ctrsh calls a runtime that calls itself name.
func runtimeName(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case n == "containerd" || strings.HasPrefix(n, "containerd"):
		return "containerd"
	case n == "cri-o" || n == "crio":
		return "cri-o"
	}
	return n
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// call is ctx with the deadline of one call.
func call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, CallTimeout)
}

// err turns a call's error into ctrsh's: the caller's cancellation as
// ctx.Err() (wrapped, never matched by text), an unreachable runtime named
// with ErrNotReachable, the rest with the runtime's own message.
func (c *Client) err(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.DeadlineExceeded:
		return fmt.Errorf("cri %s: %w: no answer in time: %w", c.Endpoint, ErrNotReachable, context.DeadlineExceeded)
	case codes.Unavailable:
		return fmt.Errorf("cri %s: %w: %s", c.Endpoint, ErrNotReachable, st.Message())
	case codes.Canceled:
		return fmt.Errorf("cri %s: %w", c.Endpoint, context.Canceled)
	}
	return fmt.Errorf("cri %s: %s", c.Endpoint, st.Message())
}

// isNotFound reports whether err is the runtime's "not found".
func isNotFound(err error) bool {
	if status.Code(err) == codes.NotFound {
		return true
	}
	// containerd 1.6 says "an error occurred when try to find container
	// ...: not found" with code Unknown.
	return strings.HasSuffix(status.Convert(err).Message(), "not found")
}
