// Package logs is the logs Lua module: a container's logs as an iterator
// of lines, with tail, since/until, follow, timestamps and a Go regexp
// applied before lines reach Lua. The engine is always asked for
// timestamps, so every line has its time; multiplexed and TTY streams are
// both read frame by frame, so long lines and binary bytes stay intact.
package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// Line is one log line.
type Line struct {
	Stream string // "stdout" or "stderr"
	Time   time.Time
	Line   []byte // without the newline
}

// Options select the lines of Read.
type Options struct {
	Tail         int // -1: all
	Since, Until time.Time
	Follow       bool
	Grep         *regexp.Regexp
	Stdout       bool
	Stderr       bool
}

// Open asks the engine for the logs of c. The reader is closed when ctx ends.
func Open(ctx context.Context, c *docker.Container, o Options) (io.ReadCloser, error) {
	lo := client.ContainerLogsOptions{
		ShowStdout: o.Stdout, ShowStderr: o.Stderr,
		Timestamps: true, Follow: o.Follow, Tail: "all",
	}
	if o.Tail >= 0 {
		lo.Tail = strconv.Itoa(o.Tail)
	}
	if !o.Since.IsZero() {
		lo.Since = docker.APITimestamp(o.Since.UnixNano())
	}
	if !o.Until.IsZero() {
		lo.Until = docker.APITimestamp(o.Until.UnixNano())
	}
	e := c.Engine()
	r, err := e.Open(ctx, func(ctx context.Context) (io.ReadCloser, error) {
		return e.ContainerLogs(ctx, c.ID, lo)
	})
	if err != nil {
		return nil, e.ContainerErr(c.Subject(), fmt.Errorf("logs: %w", err))
	}
	return r, nil
}

// Reader reads the lines of a logs stream: multiplexed (8-byte frame
// headers, one log message per frame) or raw (TTY). Each message starts
// with the engine's RFC 3339 timestamp; a message without a trailing
// newline is a part of a long line that the next message of the same
// stream continues.
type Reader struct {
	r       *bufio.Reader
	tty     bool
	grep    *regexp.Regexp
	partial map[string]*Line
	hdr     [8]byte
}

// NewReader reads lines from r; tty says the stream is not multiplexed.
func NewReader(r io.Reader, tty bool, grep *regexp.Regexp) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), tty: tty, grep: grep, partial: map[string]*Line{}}
}

// MaxLine bounds a line joined from parts: past it, the parts so far are
// a line of their own.
var MaxLine = 8 << 20

// maxFrame bounds one frame (the engine's are at most a few tens of KiB).
const maxFrame = 64 << 20

// Next returns the next line that passes the grep, or io.EOF.
func (lr *Reader) Next() (*Line, error) {
	for {
		stream, msg, err := lr.message()
		if err != nil {
			if errors.Is(err, io.EOF) {
				// Flush parts left without their newline.
				for _, s := range []string{"stdout", "stderr"} {
					if l := lr.partial[s]; l != nil {
						delete(lr.partial, s)
						if lr.keep(l) {
							return l, nil
						}
					}
				}
			}
			return nil, err
		}
		ts, body := splitTimestamp(msg)
		complete := bytes.HasSuffix(body, []byte("\n"))
		if complete {
			body = body[:len(body)-1]
			if lr.tty {
				body = bytes.TrimSuffix(body, []byte("\r"))
			}
		}
		l := lr.partial[stream]
		if l == nil {
			l = &Line{Stream: stream, Time: ts}
		}
		l.Line = append(l.Line, body...)
		if !complete && len(l.Line) >= MaxLine {
			// A container that never ends its line must not take all the
			// memory: what it wrote so far is one line.
			complete = true
		}
		if !complete {
			lr.partial[stream] = l
			continue
		}
		delete(lr.partial, stream)
		if lr.keep(l) {
			return l, nil
		}
	}
}

func (lr *Reader) keep(l *Line) bool {
	return lr.grep == nil || lr.grep.Match(l.Line)
}

// message reads one log message and the stream it came on.
func (lr *Reader) message() (string, []byte, error) {
	if lr.tty {
		b, err := lr.r.ReadBytes('\n')
		if len(b) > 0 {
			return "stdout", b, nil
		}
		return "", nil, err
	}
	if _, err := io.ReadFull(lr.r, lr.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "", nil, fmt.Errorf("logs: truncated frame header")
		}
		return "", nil, err
	}
	var stream string
	switch lr.hdr[0] {
	case 1:
		stream = "stdout"
	case 2:
		stream = "stderr"
	case 3:
		n := binary.BigEndian.Uint32(lr.hdr[4:])
		b := make([]byte, min(n, maxFrame))
		_, _ = io.ReadFull(lr.r, b)
		return "", nil, fmt.Errorf("logs: engine error: %s", bytes.TrimSpace(b))
	default:
		return "", nil, fmt.Errorf("logs: bad frame header %v", lr.hdr)
	}
	n := binary.BigEndian.Uint32(lr.hdr[4:])
	if n > maxFrame {
		return "", nil, fmt.Errorf("logs: frame of %d bytes", n)
	}
	// Each frame gets its own slice: the line keeps it.
	b := make([]byte, n)
	if _, err := io.ReadFull(lr.r, b); err != nil {
		return "", nil, fmt.Errorf("logs: truncated frame: %w", err)
	}
	return stream, b, nil
}

// splitTimestamp splits "2024-01-02T03:04:05.123456789Z rest" into the
// time and rest; a message without a timestamp keeps all its bytes.
func splitTimestamp(b []byte) (time.Time, []byte) {
	i := bytes.IndexByte(b, ' ')
	if i < 20 || i > 40 {
		return time.Time{}, b
	}
	t, err := time.Parse(time.RFC3339Nano, string(b[:i]))
	if err != nil {
		return time.Time{}, b
	}
	return t, b[i+1:]
}

// FormatTimestamp is how docker logs -t prints a line's time.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}
