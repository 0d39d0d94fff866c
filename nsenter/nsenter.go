// Package nsenter enters the namespaces of another process, natively, as
// util-linux nsenter(1) and runc's libcontainer/nsenter do: a re-executed,
// sealed copy of ctrsh joins the target's namespaces in a C constructor
// before the Go runtime starts (setns(2) into a mount namespace needs a
// single-threaded process), forks into its PID namespace, and then either
// execs a command found inside the container or lets the Go runtime start
// to run a payload (a Lua chunk, for the ns module) and send back a result.
//
// A program that uses Run must call ChildPayload first thing in main (and
// TestMain), so that the re-executed child runs the payload instead of the
// program.
package nsenter

import (
	"errors"
	"io"
	"os"
	"time"
)

// Grace is how long an entered command whose context ended has between
// SIGTERM and SIGKILL (and how long its output may linger after it exited).
// A caller that gives up on a run that does not stop (ctrsh's watchdog, after
// --timeout or a signal) waits longer than this, so that the command is
// always killed before the caller exits.
const Grace = 2 * time.Second

// Options say which process to enter, how, and where the command's stdio goes.
type Options struct {
	// PID is the target process, as seen from ctrsh's PID namespace.
	PID int
	// Namespaces are the kinds to join: "mnt", "uts", "ipc", "net", "pid",
	// "user", "cgroup", "time". nil joins every namespace of the target
	// that differs from ours. Kinds equal to ours are skipped.
	Namespaces []string
	// Cgroups are cgroup.procs files, as the host sees them, that the
	// entered process is written to before it joins the namespaces: the
	// target's cgroups (every v1 hierarchy and the v2 one), so that it is
	// counted and limited with them. The caller finds them (bindings/ns,
	// with the cgroup package's mountinfo parser), after pinning the
	// target: this package checks the pin still lives after the caller read.
	Cgroups []string
	// Workdir is the working directory inside; default the container's /.
	Workdir string
	// User is "user[:group]", names or numbers, looked up inside the
	// container; default: stay root.
	User string
	// Env is added to the environment of the command (KEY=VALUE, overriding),
	// which starts as the target's own environment (/proc/PID/environ); a PATH
	// is added when it has none. ctrsh's environment never crosses, and the
	// command's is applied only at execve inside the container (Exec; Run's
	// chunk starts with an empty environment).
	Env []string
	// Stdin, Stdout and Stderr are the command's stdio; nil is /dev/null.
	// An *os.File (a terminal) is passed as it is.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// AllowHost permits entering host PID 1, or a process whose namespaces
	// are all ours, which is refused by default (it is not a container).
	AllowHost bool
	// Pidfd is a pidfd of PID that the caller opened (pidfd_open) and
	// checked to be the process it means (ctrsh checks that a PID the
	// engine reported is the container's); it stays the caller's. Nil:
	// PID is pinned here, as it is given.
	Pidfd *os.File
}

// Exit codes of the helper for failures of its own (a command's own exit
// code passes through). Exec and Run return them with an error.
const (
	ExitSetup      = 125 // entering failed: setns, target gone, cgroup, chdir
	ExitCannotExec = 126 // the command was found but could not be executed
	ExitNotFound   = 127 // the command does not exist inside the container
)

var (
	// ErrNotSupported: this build cannot enter namespaces (not linux
	// with cgo). A kernel without pidfd_open (before 5.3) gives an error
	// wrapping errors.ErrUnsupported.
	ErrNotSupported = errors.New("entering namespaces needs ctrsh built for linux with cgo")
	// ErrNotFound: the command does not exist inside the container.
	ErrNotFound = errors.New("not found in the container")
	// ErrRefused: the target is host PID 1, or shares every namespace with
	// ctrsh (Options.AllowHost permits it).
	ErrRefused = errors.New("refused")
	// ErrTargetGone: there is no such process, or it exited before its
	// namespaces were joined.
	ErrTargetGone = errors.New("no such process")
)

// kindNames are the namespace kinds, in /proc/PID/ns file names.
var kindNames = []string{"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}
