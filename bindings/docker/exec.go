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
}

// ExecResult is what an exec returned: stdout and stderr apart (in TTY mode
// everything is in Stdout).
type ExecResult struct {
	Code           int
	Stdout, Stderr []byte
}

// Exec runs argv in the container through the engine and waits for it. On
// timeout or cancellation the process is killed (by its host PID, which the
// engine reports) and the error says so.
func (c *Container) Exec(ctx context.Context, argv []string, o ExecOptions) (*ExecResult, error) {
	e := c.engine
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	created, err := e.ExecCreate(ctx, c.ID, client.ExecCreateOptions{
		User: o.User, TTY: o.TTY, Env: o.Env, WorkingDir: o.Workdir, Cmd: argv,
		AttachStdin: o.Stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return nil, e.ContainerErr(c.Subject(), err)
	}
	att, err := e.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: o.TTY})
	if err != nil {
		return nil, e.ContainerErr(c.Subject(), fmt.Errorf("exec: %w", err))
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
		return nil, c.killExec(created.ID, ctx.Err(), o.Timeout)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, e.ContainerErr(c.Subject(), fmt.Errorf("exec: reading output: %w", err))
	}
	// The stream ends when the process closes its output; the engine marks
	// the exec finished a moment later.
	for {
		in, err := e.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return nil, c.killExec(created.ID, ctx.Err(), o.Timeout)
			}
			return nil, e.ContainerErr(c.Subject(), fmt.Errorf("exec: %w", err))
		}
		if !in.Running {
			return &ExecResult{Code: in.ExitCode, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
		}
		select {
		case <-ctx.Done():
			return nil, c.killExec(created.ID, ctx.Err(), o.Timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// killExec kills an exec's process that outlived its caller and returns the
// error to report.
func (c *Container) killExec(execID string, cause error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	what := cause.Error()
	if errors.Is(cause, context.DeadlineExceeded) && timeout > 0 {
		what = "timed out after " + timeout.String()
	}
	in, err := c.engine.ExecInspect(ctx, execID, client.ExecInspectOptions{})
	if err == nil && in.Running && in.PID > 0 {
		if kerr := syscall.Kill(in.PID, syscall.SIGKILL); kerr == nil {
			return fmt.Errorf("%s: exec: %s (process %d killed): %w", c.Subject(), what, in.PID, cause)
		}
	}
	return fmt.Errorf("%s: exec: %s: %w", c.Subject(), what, cause)
}
