package cri

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// ops are the docker.Ops of a CRI runtime's containers.
type ops struct{ c *Client }

func (c *Client) ops() docker.Ops { return &ops{c} }

// Client is the client of the runtime that serves k, or nil when another
// runtime does.
func ClientOf(k *docker.Container) *Client {
	if o, ok := docker.OpsOf(k).(*ops); ok {
		return o.c
	}
	return nil
}

func (o *ops) Refresh(ctx context.Context, k *docker.Container) error {
	return o.c.refresh(ctx, k)
}

// StopTimeout is how long c:stop{} without a timeout waits before SIGKILL
// (docker's default; the kubelet's grace period is the pod's).
var StopTimeout = 10 * time.Second

// ErrUnsupported is wrapped by the errors of what the CRI cannot do.
var ErrUnsupported = errors.ErrUnsupported

// Exec runs argv through ExecSync: no user, environment, working
// directory, terminal or standard input (the CRI's ExecSync has none;
// c:enter has them all). A timeout is the runtime's to enforce (it kills
// the process); the caller's cancellation ends the call, and the runtime
// then kills the process too (containerd does).
func (o *ops) Exec(ctx context.Context, k *docker.Container, argv []string, eo docker.ExecOptions) (*docker.ExecResult, error) {
	var unsupported []string
	if eo.User != "" {
		unsupported = append(unsupported, "user")
	}
	if len(eo.Env) > 0 {
		unsupported = append(unsupported, "env")
	}
	if eo.Workdir != "" {
		unsupported = append(unsupported, "workdir")
	}
	if eo.TTY {
		unsupported = append(unsupported, "tty")
	}
	if eo.Stdin != nil {
		unsupported = append(unsupported, "stdin")
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("%s: exec: %s: the CRI's ExecSync has none (c:enter has them): %w", k.Subject(), strings.Join(unsupported, ", "), ErrUnsupported)
	}
	req := &runtimeapi.ExecSyncRequest{ContainerId: k.ID, Cmd: argv}
	cctx := ctx
	if eo.Timeout > 0 {
		req.Timeout = int64((eo.Timeout + time.Second - 1) / time.Second)
		var cancel context.CancelFunc
		// The runtime ends the process at the timeout; the call's own
		// deadline leaves it time to say so.
		cctx, cancel = context.WithTimeout(ctx, time.Duration(req.Timeout)*time.Second+CallTimeout)
		defer cancel()
	}
	res, err := o.c.rt.ExecSync(cctx, req)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: no such container", k.Subject())
		}
		if eo.Timeout > 0 && strings.Contains(err.Error(), "timeout") && ctx.Err() == nil {
			return nil, fmt.Errorf("%s: exec: timed out after %s (the runtime killed it): %w", k.Subject(), eo.Timeout, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("%s: exec: %w", k.Subject(), o.c.err(ctx, err))
	}
	return &docker.ExecResult{Code: int(res.GetExitCode()), Stdout: res.GetStdout(), Stderr: res.GetStderr()}, nil
}

// Lifecycle: start and stop are the CRI's; kill signals the container's
// init through a pidfd (the CRI has no kill; SIGKILL is what StopContainer
// sends last); restart, pause and unpause are not in the CRI (the kubelet
// restarts containers by creating new ones).
func (o *ops) Lifecycle(ctx context.Context, k *docker.Container, a docker.Action) error {
	cctx, cancel := call(ctx)
	defer cancel()
	var err error
	switch a.Name {
	case "start":
		_, err = o.c.rt.StartContainer(cctx, &runtimeapi.StartContainerRequest{ContainerId: k.ID})
	case "stop":
		timeout := StopTimeout
		if a.Timeout != nil {
			timeout = *a.Timeout
		}
		secs := int64((timeout + time.Second - 1) / time.Second)
		cctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+CallTimeout)
		defer cancel()
		_, err = o.c.rt.StopContainer(cctx, &runtimeapi.StopContainerRequest{ContainerId: k.ID, Timeout: secs})
	case "kill":
		return o.kill(ctx, k, a.Signal)
	default:
		return fmt.Errorf("%s: %s: the CRI has no %s (%s): %w", k.Subject(), a.Name, a.Name, k.Runtime, ErrUnsupported)
	}
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%s: no such container", k.Subject())
		}
		return fmt.Errorf("%s: %s: %w", k.Subject(), a.Name, o.c.err(ctx, err))
	}
	return nil
}

// kill sends signal to k's init, pinned and checked to be k's process.
func (o *ops) kill(ctx context.Context, k *docker.Container, signal string) error {
	sig, err := ParseSignal(signal)
	if err != nil {
		return fmt.Errorf("%s: kill: %w", k.Subject(), err)
	}
	if err := o.c.refresh(ctx, k); err != nil {
		return err
	}
	p, err := k.Pin(o.c.HostRoot, k.PID)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Signal(sig); err != nil {
		return fmt.Errorf("%s: kill: %w", k.Subject(), err)
	}
	return nil
}

// ParseSignal reads a signal as docker kill takes it: "KILL", "SIGKILL",
// "9"; "" is SIGKILL.
func ParseSignal(s string) (syscall.Signal, error) {
	if s == "" {
		return syscall.SIGKILL, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

// WaitPoll is how often Wait asks the runtime whether the container stopped.
var WaitPoll = 200 * time.Millisecond

// Wait polls the container's status until it is not running.
func (o *ops) Wait(ctx context.Context, k *docker.Container) (int, error) {
	for {
		res, err := o.c.status(ctx, k.ID, false)
		if err != nil {
			if isNotFound(err) {
				return 0, fmt.Errorf("%s: no such container", k.Subject())
			}
			return 0, fmt.Errorf("%s: wait: %w", k.Subject(), o.c.err(ctx, err))
		}
		if st := res.GetStatus(); st.GetState() == runtimeapi.ContainerState_CONTAINER_EXITED {
			return int(st.GetExitCode()), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(WaitPoll):
		}
	}
}
