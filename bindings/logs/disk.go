package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// openDisk opens c's json-file log (and its uncompressed rotated parts)
// straight from the engine's data root (docker.Container.OpenLog), for when
// the engine does not answer: tail, since, until, stream selection and
// follow are the log files' reading (files.go), as for a CRI log. The
// stream is multiplexed frames, as the engine's.
func openDisk(ctx context.Context, c *docker.Container, o Options) (io.ReadCloser, error) {
	lf := &logFile{
		path:   "", // OpenLog's suffix of the current file
		format: jsonFormat{trimCR: c.TTY},
		open:   c.OpenLog,
		// .1, .2, ... while they are there uncompressed (the engine gzips
		// older parts with compress=true).
		rotated: func() []string {
			var out []string
			for i := 1; i < 100; i++ {
				suffix := "." + strconv.Itoa(i)
				f, err := c.OpenLog(suffix)
				if err != nil {
					break
				}
				f.Close()
				out = append(out, suffix)
			}
			return out
		},
	}
	r, err := lf.read(ctx, o)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: logs: no json-file log: %w", c.Subject(), err)
		}
		return nil, err
	}
	return r, nil
}
