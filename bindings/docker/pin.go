package docker

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/proc"
)

// ErrNotItsProcess is wrapped by the error of Pin when the PID the engine
// reported is, on this host, not a process of the container: the engine is
// remote (tcp://, ssh://), nested or rootless (its PIDs are another PID
// namespace's), or the PID was reused since the engine looked.
var ErrNotItsProcess = errors.New("is not its process (remote or nested engine?)")

// ErrProcessGone is wrapped by the error of Pin when there is no process
// with that PID any more.
var ErrProcessGone = errors.New("no such process")

// Pinned is a process of a container held by a pidfd: while it is held,
// its PID cannot come to name another process, and signals sent through it
// reach this one or none.
type Pinned struct {
	PID  int
	file *os.File // the pidfd
}

// Pin pins process pid, which the engine reported for c, and checks that it
// is c's: the cgroup of the pinned process, read below the host root root
// ("/", or a fixture tree in tests), names c's id, and the process still
// lives after that read (so what was read was its own). Otherwise the
// error is `container "web": process N is not its process (remote or
// nested engine?)`. Only the PID is local knowledge here: everything that
// goes through the engine's API works with any engine.
func (c *Container) Pin(root string, pid int) (*Pinned, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("%s: not running (%s)", c.Subject(), c.State)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil, fmt.Errorf("%s: process %d: %w", c.Subject(), pid, ErrProcessGone)
	case errors.Is(err, unix.ENOSYS):
		return nil, fmt.Errorf("%s: process %d: pinning it needs pidfd_open (Linux 5.3): %w", c.Subject(), pid, errors.ErrUnsupported)
	case err != nil:
		return nil, fmt.Errorf("%s: process %d: pidfd_open: %w", c.Subject(), pid, err)
	}
	p := &Pinned{PID: pid, file: os.NewFile(uintptr(fd), "pidfd")}
	fs, err := proc.NewFS(root)
	if err == nil {
		var id string
		if id, _, err = fs.ContainerOf(pid); err == nil && id != c.ID {
			err = fmt.Errorf("process %d %w", pid, ErrNotItsProcess)
		}
	}
	if err == nil {
		err = p.Alive()
	}
	if errors.Is(err, proc.ErrNoProcess) || errors.Is(err, unix.ESRCH) {
		err = fmt.Errorf("process %d: %w", pid, ErrProcessGone)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: %w", c.Subject(), err)
	}
	return p, nil
}

// File is the pidfd (for nsenter.Options.Pidfd); it stays the Pinned's.
func (p *Pinned) File() *os.File { return p.file }

// Alive reports whether the pinned process still lives (an error wrapping
// unix.ESRCH when it has exited).
func (p *Pinned) Alive() error {
	return p.Signal(0)
}

// Signal sends sig to the pinned process (pidfd_send_signal): never to a
// process that reused its PID.
func (p *Pinned) Signal(sig syscall.Signal) error {
	rc, err := p.file.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.PidfdSendSignal(int(fd), sig, nil, 0)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("process %d: pidfd_send_signal: %w", p.PID, serr)
	}
	return nil
}

// Close lets the process go.
func (p *Pinned) Close() error { return p.file.Close() }
