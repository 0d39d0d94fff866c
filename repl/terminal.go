//go:build linux

package repl

import (
	"context"
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// terminal lends the shell's terminal to the running statement: io.read,
// io.lines and io.stdin read through it (luax.Env.ReadTerminal). While a
// statement runs readline is paused: it reads only inside Readline, and
// it has put the terminal back in its normal mode, where a read returns a
// line as the person typed it (the terminal echoes and edits it, Ctrl-D
// ends the input). The read waits in poll(2) on the terminal and on a pipe
// that the statement's context writes to when it ends, so that Ctrl-C
// stops a statement waiting for input as it stops any other.
type terminal struct {
	fd   int
	wake [2]int // the pipe: read end, write end
}

func newTerminal(fd int) (*terminal, error) {
	t := &terminal{fd: fd}
	if err := unix.Pipe2(t.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *terminal) close() {
	unix.Close(t.wake[0])
	unix.Close(t.wake[1])
}

// read reads what is typed into p: a line at most, io.EOF at Ctrl-D, or
// ctx's error when ctx ends first.
func (t *terminal) read(ctx context.Context, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	woke := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		unix.Write(t.wake[1], []byte{1})
		close(woke)
	})
	defer func() {
		if !stop() {
			<-woke
			var b [16]byte
			for {
				if n, _ := unix.Read(t.wake[0], b[:]); n <= 0 {
					break
				}
			}
		}
	}()
	for {
		fds := []unix.PollFd{
			{Fd: int32(t.fd), Events: unix.POLLIN},
			{Fd: int32(t.wake[0]), Events: unix.POLLIN},
		}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return 0, err
		}
		if fds[1].Revents != 0 {
			return 0, ctx.Err()
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, err := unix.Read(t.fd, p)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
