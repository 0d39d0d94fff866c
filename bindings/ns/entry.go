package ns

// The entry logic of ns.enter, ns.run, c:enter and c:run: which process,
// with which options, through the nsenter package; and RunChild, the half of
// ns.run that runs inside the container. The Lua glue is enter.go, the wire
// form of the values wire.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/nsenter"
)

// Target is a process to act on: its PID, the pidfd that pins it, and the
// subject that names it in messages (`container "web"`, `process 42`).
type Target struct {
	PID int
	// Pidfd pins the process (pidfd_open) once it was checked to be the
	// container's; nil for a PID given as it is (entering pins it then).
	Pidfd   *os.File
	Subject string
}

// Alive reports whether a pinned target still lives: what was read about
// it under /proc was its own only if it does. Nil for an unpinned target.
func (t Target) Alive() error {
	if t.Pidfd == nil {
		return nil
	}
	rc, err := t.Pidfd.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.PidfdSendSignal(int(fd), 0, nil, 0) }); err != nil {
		return err
	}
	if errors.Is(serr, unix.ESRCH) {
		return fmt.Errorf("process %d: %w", t.PID, nsenter.ErrTargetGone)
	}
	return serr
}

// Close lets a pinned target go.
func (t Target) Close() {
	if t.Pidfd != nil {
		t.Pidfd.Close()
	}
}

// EnterOptions are the options of Enter (c:enter and ns.enter).
type EnterOptions struct {
	Namespaces []string // nil: every namespace of the target that differs from ours
	JoinCgroup bool
	Workdir    string
	User       string   // "user[:group]" inside the container
	Env        []string // KEY=VALUE over the target's environment
	// Capture collects stdout and stderr into the result; otherwise they go
	// to Stdout and Stderr (a terminal is passed as it is: interactive).
	Capture        bool
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	AllowHost      bool
	// Pidfd pins the target (see nsenter.Options.Pidfd); nil pins it here.
	Pidfd *os.File
}

// EnterResult is what a command run inside returned.
type EnterResult struct {
	Code           int
	Stdout, Stderr []byte // when captured
}

// Enter runs argv inside the namespaces of process pid (see nsenter.Exec).
// The error is non-nil when entering failed, the command was not found
// (wrapping nsenter.ErrNotFound), or ctx ended; res.Code is the command's
// exit code, 128+N for signal N.
func Enter(ctx context.Context, pid int, argv []string, o EnterOptions) (*EnterResult, error) {
	var stdout, stderr bytes.Buffer
	opts := nsenter.Options{
		PID: pid, Namespaces: o.Namespaces, Workdir: o.Workdir,
		User: o.User, Env: o.Env, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, AllowHost: o.AllowHost,
		Pidfd: o.Pidfd,
	}
	if o.Capture {
		opts.Stdout, opts.Stderr = &stdout, &stderr
	}
	if o.JoinCgroup {
		release, err := JoinCgroups(&opts)
		if err != nil {
			return &EnterResult{}, err
		}
		defer release()
	}
	code, err := nsenter.Exec(ctx, opts, argv)
	res := &EnterResult{Code: code}
	if o.Capture {
		res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	}
	return res, err
}

// RunOptions are the options of RunChunk.
type RunOptions struct {
	Namespaces     []string
	JoinCgroup     bool
	Workdir        string
	User           string
	Stdout, Stderr io.Writer // where print() inside goes
	AllowHost      bool
	ChunkName      string   // for error messages, default "=(run)"
	Pidfd          *os.File // pins the target (see nsenter.Options.Pidfd)
	// Safe builds the chunk's state in --safe mode: the child has its
	// parent's mode, whatever it was started with.
	Safe bool
}

// RunChunk evaluates the Lua chunk inside the namespaces of process pid,
// in a ctrsh state of its own (RunChild), with args as its `...`, and
// returns its values, built in L. Tables arrive intact (see wire.go).
func RunChunk(ctx context.Context, L *lua.LState, pid int, chunk string, args []lua.LValue, o RunOptions) ([]lua.LValue, error) {
	name := o.ChunkName
	if name == "" {
		name = "=(run)"
	}
	payload, err := encodeValues(L, append([]lua.LValue{lua.LString(chunk), lua.LString(name), lua.LBool(o.Safe)}, args...))
	if err != nil {
		return nil, fmt.Errorf("arguments of the chunk: %w", err)
	}
	opts := nsenter.Options{
		PID: pid, Namespaces: o.Namespaces, Workdir: o.Workdir, User: o.User,
		Stdout: o.Stdout, Stderr: o.Stderr, AllowHost: o.AllowHost, Pidfd: o.Pidfd,
	}
	if o.JoinCgroup {
		release, err := JoinCgroups(&opts)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	result, _, err := nsenter.Run(ctx, opts, payload)
	if err != nil {
		return nil, err
	}
	vals, err := decodeValues(L, result)
	if err != nil {
		return nil, fmt.Errorf("process %d: the chunk's results: %w", pid, err)
	}
	return vals, nil
}

// JoinCgroups sets opts.Cgroups to the cgroup.procs files of the target's
// cgroups, found with the cgroup package's parsers (/proc/PID/cgroup, the
// host's mountinfo); nsenter only writes to them. It pins the target first
// when opts.Pidfd is nil (release closes that pin), so that what it read
// was the entered process's: nsenter checks the pin still lives after.
func JoinCgroups(opts *nsenter.Options) (release func(), err error) {
	release = func() {}
	if opts.Pidfd == nil && opts.PID > 0 {
		fd, err := unix.PidfdOpen(opts.PID, 0)
		switch {
		case errors.Is(err, unix.ESRCH):
			return nil, fmt.Errorf("process %d: %w", opts.PID, nsenter.ErrTargetGone)
		case err != nil:
			return nil, fmt.Errorf("process %d: pidfd_open: %w", opts.PID, err)
		}
		pin := os.NewFile(uintptr(fd), "pidfd")
		opts.Pidfd, release = pin, func() { pin.Close() }
	}
	ms, err := cgroup.ReadMounts("/")
	if err != nil {
		release()
		return nil, fmt.Errorf("process %d: joining its cgroups: %w", opts.PID, err)
	}
	if opts.Cgroups, err = ms.ProcsFiles(opts.PID); err != nil {
		if gone := (Target{PID: opts.PID, Pidfd: opts.Pidfd}).Alive(); gone != nil {
			err = gone
		}
		release()
		return nil, err
	}
	return release, nil
}

// RunChild is the inside half of ns.run. The program's main calls it first
// thing: in the process that nsenter re-executed inside a container it runs
// the chunk in a state made by newState with the parent's mode (ctrsh's
// modules, reading the container's /proc; bindings.NewChild), sends its
// values back, and returns true: main then exits 0. Anywhere else it
// returns false at once.
func RunChild(newState func(safe bool) *lua.LState) (handled bool) {
	payload, ok := nsenter.ChildPayload()
	if !ok {
		return false
	}
	// The mode is among the values: read them once in a bare state to
	// learn it, then again in the chunk's own.
	bare := lua.NewState(lua.Options{SkipOpenLibs: true})
	vals, err := decodeValues(bare, payload)
	bare.Close()
	if err != nil || len(vals) < 3 || vals[2].Type() != lua.LTBool {
		nsenter.ChildFail("the chunk: malformed payload")
		return true
	}
	L := newState(vals[2] == lua.LTrue)
	defer L.Close()
	if vals, err = decodeValues(L, payload); err != nil {
		nsenter.ChildFail("the chunk: malformed payload")
		return true
	}
	fn, err := luax.Load(L, strings.NewReader(vals[0].String()), vals[1].String())
	if err != nil {
		nsenter.ChildFail(err.Error())
		return true
	}
	base := L.GetTop()
	L.Push(fn)
	for _, a := range vals[3:] {
		L.Push(a)
	}
	if err := luax.PCall(L, len(vals)-3, lua.MultRet, nil); err != nil {
		msg := err.Error()
		if apiErr, ok := err.(*lua.ApiError); ok {
			msg = luax.ToString(L, apiErr.Object)
		}
		nsenter.ChildFail(msg)
		return true
	}
	var results []lua.LValue
	for i := base + 1; i <= L.GetTop(); i++ {
		results = append(results, L.Get(i))
	}
	out, err := encodeValues(L, results)
	if err != nil {
		nsenter.ChildFail("the chunk's results: " + err.Error())
		return true
	}
	nsenter.ChildReply(out)
	return true
}

// ErrNotSupported is nsenter.ErrNotSupported, for callers of this package.
var ErrNotSupported = nsenter.ErrNotSupported
