package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// ExecOptions are the options of Exec (c:exec).
type ExecOptions struct {
	User    string
	Env     []string // KEY=VALUE
	Workdir string
	TTY     bool    // one merged stream, as docker exec -t gives
	Stdin   *string // nil: no stdin
	Timeout time.Duration
	// HostRoot is where /proc is read when the process of an exec that
	// outlived its caller is checked before it is killed ("" is "/").
	HostRoot string
}

// ExecResult is what an exec returned: stdout and stderr apart (in TTY mode
// everything is in Stdout).
type ExecResult struct {
	Code           int
	Stdout, Stderr []byte
}

// Exec runs argv in the container through the engine and waits for it. On
// timeout or cancellation the process is killed (by the host PID the engine
// reports, once pinned and checked to be the container's: see Pin) and the
// error says so.
func (c *Container) Exec(ctx context.Context, argv []string, o ExecOptions) (*ExecResult, error) {
	if c.ops != nil {
		return c.ops.Exec(ctx, c, argv, o)
	}
	e := c.engine
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	var created client.ExecCreateResult
	err := c.engineCall(ctx, "exec", CallTimeout, func(ctx context.Context) (err error) {
		created, err = e.ExecCreate(ctx, c.ID, client.ExecCreateOptions{
			User: o.User, TTY: o.TTY, Env: o.Env, WorkingDir: o.Workdir, Cmd: argv,
			AttachStdin: o.Stdin != nil, AttachStdout: true, AttachStderr: true,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	// The attached connection outlives the bound of its setup.
	var att client.HijackedResponse
	err = c.engineCall(ctx, "exec", CallTimeout, func(ctx context.Context) (err error) {
		r, err := e.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: o.TTY})
		att = r.HijackedResponse
		return err
	})
	if err != nil {
		return nil, err
	}
	defer att.Close()
	stop := context.AfterFunc(ctx, func() { att.Close() })
	defer stop()

	if o.Stdin != nil {
		go func() {
			_, _ = io.Copy(att.Conn, bytes.NewReader([]byte(*o.Stdin)))
			_ = att.CloseWrite()
		}()
	}
	var stdout, stderr bytes.Buffer
	if o.TTY {
		_, err = io.Copy(&stdout, att.Reader)
	} else {
		_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
	}
	if ctx.Err() != nil {
		return nil, c.killExec(created.ID, ctx.Err(), o)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, e.ContainerErr(c.Subject(), fmt.Errorf("exec: reading output: %w", err))
	}
	// The stream ends when the process closes its output; the engine marks
	// the exec finished a moment later.
	for {
		var in client.ExecInspectResult
		err := c.engineCall(ctx, "exec", CallTimeout, func(ctx context.Context) (err error) {
			in, err = e.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, c.killExec(created.ID, ctx.Err(), o)
			}
			return nil, err
		}
		if !in.Running {
			return &ExecResult{Code: in.ExitCode, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
		}
		select {
		case <-ctx.Done():
			return nil, c.killExec(created.ID, ctx.Err(), o)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// killExec kills an exec's process that outlived its caller and returns the
// error to report. The engine has no call for it: the process is killed by
// the PID the engine reports, pinned (pidfd) and checked to be the
// container's first, so that a remote, nested or rootless engine's PID, or
// one reused meanwhile, never kills a process of this host.
func (c *Container) killExec(execID string, cause error, o ExecOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	what := cause.Error()
	if errors.Is(cause, context.DeadlineExceeded) && o.Timeout > 0 {
		what = "timed out after " + o.Timeout.String()
	}
	in, err := c.engine.ExecInspect(ctx, execID, client.ExecInspectOptions{})
	if err != nil || !in.Running || in.PID <= 0 {
		return fmt.Errorf("%s: exec: %s: %w", c.Subject(), what, cause)
	}
	root := o.HostRoot
	if root == "" {
		root = "/"
	}
	p, err := c.Pin(root, in.PID)
	if err != nil {
		return fmt.Errorf("%s: exec: %s; not killed: %v: %w", c.Subject(), what, err, cause)
	}
	defer p.Close()
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("%s: exec: %s; not killed: %v: %w", c.Subject(), what, err, cause)
	}
	return fmt.Errorf("%s: exec: %s (process %d killed): %w", c.Subject(), what, in.PID, cause)
}
