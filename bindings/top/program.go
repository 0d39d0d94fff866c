package top

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options are how a Program runs.
type Options struct {
	Interval time.Duration
	Color    bool
	Sort     SortKey
	Filter   string
	Collect  func() Snapshot
	Detail   func(r Row) *Detail
}

// Run runs the view full-screen on the terminal in (its keys) and out
// (the same terminal, written as it is) until q, Ctrl-C, or ctx ends. The
// terminal is put back as it was, whatever happens.
func Run(ctx context.Context, in *os.File, out io.Writer, o Options) error {
	fd := int(in.Fd())
	restore, err := rawMode(fd)
	if err != nil {
		return err
	}
	defer restore()
	io.WriteString(out, "\x1b[?1049h\x1b[?25l")
	defer io.WriteString(out, "\x1b[?25h\x1b[?1049l")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys, stopKeys, err := readKeys(ctx, fd)
	if err != nil {
		return err
	}
	defer stopKeys()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)

	p := &program{ctx: ctx, out: out, msgs: make(chan Msg, 16)}
	w, h := size(fd)
	deps := Deps{Collect: o.Collect, Detail: o.Detail, Wait: p.wait}
	m := NewModel(deps, o.Interval, w, h, o.Color)
	m.Sort, m.Filter = o.Sort, o.Filter
	p.run(m.Init())
	for {
		p.draw(m)
		var msg Msg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case k, ok := <-keys:
			if !ok {
				return errors.New("the terminal closed")
			}
			msg = KeyMsg{k}
		case <-winch:
			w, h := size(fd)
			msg = ResizeMsg{w, h}
		case msg = <-p.msgs:
		}
		var cmds []Cmd
		m, cmds = m.Update(msg)
		if m.Quit {
			return nil
		}
		p.run(cmds)
	}
}

// program runs Cmds and draws frames.
type program struct {
	ctx  context.Context
	out  io.Writer
	msgs chan Msg
}

// run runs each Cmd in a goroutine; its Msg comes back unless the
// program has ended.
func (p *program) run(cmds []Cmd) {
	for _, c := range cmds {
		if c == nil {
			continue
		}
		go func() {
			msg := c()
			select {
			case p.msgs <- msg:
			case <-p.ctx.Done():
			}
		}()
	}
}

func (p *program) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.ctx.Done():
	}
}

// draw writes a frame over the last: each line cleared to its end, the
// rest of the screen cleared.
func (p *program) draw(m Model) {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for i, line := range strings.Split(m.View(), "\n") {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString(line)
		b.WriteString("\x1b[K")
	}
	b.WriteString("\x1b[J")
	io.WriteString(p.out, b.String())
}

// rawMode puts the terminal in raw mode (keys one by one, no echo, Ctrl-C
// a key) and returns what puts it back.
func rawMode(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// size is the terminal's width and height (80x24 when it does not say).
func size(fd int) (int, int) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return 80, 24
	}
	return int(ws.Col), int(ws.Row)
}

// readKeys reads keys from fd until ctx ends or stop is called; stop
// returns once the reader is gone, so that nothing reads the terminal
// after the view (the shell reads it next). The channel closes when the
// terminal does.
func readKeys(ctx context.Context, fd int) (<-chan string, func(), error) {
	var wake [2]int
	if err := unix.Pipe2(wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	keys := make(chan string, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(keys)
		buf := make([]byte, 256)
		for {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake[0]), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, -1); err != nil {
				if err == unix.EINTR {
					continue
				}
				return
			}
			if fds[1].Revents != 0 {
				return
			}
			n, err := unix.Read(fd, buf)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err != nil || n == 0 {
				return
			}
			for _, k := range ParseKeys(buf[:n]) {
				select {
				case keys <- k:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	stop := func() {
		cancel()
		unix.Write(wake[1], []byte{1})
		<-done
		unix.Close(wake[0])
		unix.Close(wake[1])
	}
	return keys, stop, nil
}

// Sample is the one sample of a view off a terminal: two reads interval
// apart (CPU% is over that interval; none when interval is 0), sorted and
// filtered as the view would.
func Sample(ctx context.Context, collect func() Snapshot, interval time.Duration, sortBy SortKey, filter string) (Snapshot, error) {
	snap := collect()
	if interval > 0 {
		t := time.NewTimer(interval)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return snap, ctx.Err()
		}
		snap = collect()
	}
	m := Model{Snap: snap, Sort: sortBy, Filter: filter}
	snap.Rows = m.Visible()
	return snap, nil
}
