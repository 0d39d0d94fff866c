package nsenter

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// terminal remembers which process group had a command's terminal (its
// stdin) when it started, to take the terminal back for it once the
// command is done: a shell inside the container that does job control
// makes its jobs the terminal's foreground group, and cannot give the
// terminal back to a group outside its PID namespace when it exits (it
// cannot name it). ctrsh's shell would then read the terminal from the
// background.
type terminal struct {
	fd   int
	pgrp int // the foreground process group before the command
}

// holdTerminal notes the foreground group of r when r is a terminal and
// that group is ours; nil otherwise.
func holdTerminal(r io.Reader) *terminal {
	f, ok := r.(*os.File)
	if !ok {
		return nil
	}
	fd := int(f.Fd())
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || pgrp != unix.Getpgrp() {
		return nil
	}
	return &terminal{fd: fd, pgrp: pgrp}
}

// restore makes the group that had the terminal its foreground again, if
// the command left another one there. SIGTTOU, which the kernel sends a
// background group that sets the foreground, is ignored meanwhile.
func (t *terminal) restore() {
	if t == nil {
		return
	}
	if pgrp, err := unix.IoctlGetInt(t.fd, unix.TIOCGPGRP); err != nil || pgrp == t.pgrp {
		return
	}
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(t.fd, unix.TIOCSPGRP, t.pgrp)
}
