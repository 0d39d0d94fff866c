package logs

import (
	"context"
	"errors"
	"io"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// Last returns the last n lines of c's log, as c:logs{tail=n} reads them
// (from the engine, or from the log file on disk when the engine does not
// answer): the Go API for ctrsh top's detail view.
func Last(ctx context.Context, c *docker.Container, n int) ([]Line, error) {
	rc, tty, err := openLogs(ctx, c, Options{Tail: n, Stdout: true, Stderr: true})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()
	lr := NewReader(rc, tty, nil)
	var out []Line
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			return out, err
		}
		out = append(out, *l)
	}
}
