//go:build linux && cgo

package nsenter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Exec runs argv inside the target's namespaces and returns its exit code
// (128+N when it was killed by signal N). err is non-nil when entering
// failed: code is then ExitSetup, ExitCannotExec or ExitNotFound (wrapping
// ErrNotFound), or 0 when nothing was started; and when ctx ended the run
// (the command was sent SIGTERM, then SIGKILL after Grace).
// A command without a slash is searched on the PATH of its environment,
// inside the container's mount namespace.
func Exec(ctx context.Context, opts Options, argv []string) (code int, err error) {
	if len(argv) == 0 {
		return 0, fmt.Errorf("process %d: no command", opts.PID)
	}
	code, _, err = spawn(ctx, &opts, argv, nil)
	return code, err
}

// Run starts the Go runtime of a sealed copy of ctrsh inside the target's
// namespaces, hands it payload (ChildPayload), and returns what it sends
// back (ChildReply) and its exit code.
func Run(ctx context.Context, opts Options, payload []byte) (result []byte, code int, err error) {
	if payload == nil {
		payload = []byte{}
	}
	code, result, err = spawn(ctx, &opts, nil, payload)
	return result, code, err
}

// Test hooks: forceNsFiles takes the /proc/PID/ns/* path even where
// setns(pidfd) works; afterPin runs once the target is pinned.
var (
	forceNsFiles bool
	afterPin     func()
)

// spawn runs the helper; payload nil means exec mode.
func spawn(ctx context.Context, o *Options, argv []string, payload []byte) (int, []byte, error) {
	wrap := func(err error) error { return fmt.Errorf("process %d: %w", o.PID, err) }
	if o.PID <= 0 {
		return 0, nil, fmt.Errorf("process %d: %w", o.PID, ErrTargetGone)
	}
	if os.Geteuid() != 0 {
		return 0, nil, wrap(fmt.Errorf("entering its namespaces needs root (CAP_SYS_ADMIN): %w", fs.ErrPermission))
	}

	pidfd, err := pinTarget(o)
	if err != nil {
		return 0, nil, wrap(err)
	}
	pidFile := os.NewFile(uintptr(pidfd), "pidfd")
	defer pidFile.Close()

	cfg, err := prepare(o, argv, payload != nil)
	if err != nil {
		return 0, nil, wrap(err)
	}
	if afterPin != nil {
		afterPin()
	}
	// What was read under /proc/PID was the pinned process's only if it
	// still lives now.
	if err := alive(pidfd); err != nil {
		return 0, nil, wrap(err)
	}
	conf, err := cfg.encode()
	if err != nil {
		return 0, nil, wrap(err)
	}

	exe, err := sealedExe()
	if err != nil {
		return 0, nil, wrap(err)
	}
	// No fd of ours but stdio and the status socket may cross
	// (CVE-2024-21626): fds we did not open ourselves (inherited from
	// whoever started ctrsh) become close-on-exec. ExtraFiles are dup'ed
	// into place after this.
	_ = unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)

	parentSock, childSock, err := statusSocket()
	if err != nil {
		return 0, nil, wrap(err)
	}
	defer parentSock.Close()

	cmd := helperCmd(ctx, exe, o, childSock, pidFile)
	tty := holdTerminal(o.Stdin)
	defer tty.restore()
	err = cmd.Start()
	childSock.Close()
	pidFile.Close()
	if err != nil {
		return 0, nil, wrap(fmt.Errorf("starting the helper: %w", err))
	}

	collect := converse(parentSock, conf, payload)
	waitErr := cmd.Wait()
	status, readErr := collect()

	code := exitCode(cmd.ProcessState)
	if cmd.ProcessState == nil {
		return 0, nil, wrap(fmt.Errorf("helper: %w", waitErr))
	}
	if ctx.Err() != nil {
		return code, nil, wrap(ctx.Err())
	}
	if readErr != nil {
		return code, nil, wrap(fmt.Errorf("reading the helper's status: %w", readErr))
	}
	res, err := helperResult(status, payload != nil, code)
	if err != nil {
		return code, nil, wrap(err)
	}
	return code, res, nil
}

// helperCmd is the sealed copy of ctrsh that enters: its argv, its
// environment (the gate only), the command's stdio, and fds 3 and 4.
func helperCmd(ctx context.Context, exe *os.File, o *Options, childSock, pidFile *os.File) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/proc/self/fd/"+strconv.Itoa(int(exe.Fd())))
	// argv[0] names the helper in ps; the flag makes a test binary whose
	// TestMain forgot ChildPayload run no tests inside the container, and
	// ctrsh's own main fail with a usage error.
	cmd.Args = []string{"ctrsh-nsenter", "-test.run=^$"}
	// The helper's environment is ours to build, and holds nothing but the
	// gate: the host's loader and Go runtime read it before any namespace
	// is joined. The command's environment is in the config record.
	cmd.Env = []string{gateEnv + "=" + strconv.Itoa(statusFD)}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.ExtraFiles = []*os.File{childSock, pidFile} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = Grace
	return cmd
}

// converse writes the config record (and the payload) to the helper and
// reads its status message in the background; collect, called once the
// helper was waited for, returns that message.
func converse(sock *os.File, conf, payload []byte) (collect func() ([]byte, error)) {
	go func() {
		// The helper may die before reading it all; its error then says why.
		_, _ = sock.Write(conf)
		if payload != nil {
			_, _ = sock.Write(payload)
		}
		if rc, err := sock.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_WR) })
		}
	}()
	var status []byte
	var readErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		status, readErr = io.ReadAll(sock)
	}()
	return func() ([]byte, error) {
		// The socket closes with the child (or at exec); a grandchild
		// cannot hold it (close-on-exec), but never hang on it.
		_ = sock.SetReadDeadline(time.Now().Add(Grace))
		<-read
		return status, readErr
	}
}

// alive reports whether the process a pidfd pins still lives.
func alive(pidfd int) error {
	err := unix.PidfdSendSignal(pidfd, 0, nil, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return ErrTargetGone
	case err != nil:
		return fmt.Errorf("pidfd_send_signal: %w", err)
	}
	return nil
}

// pinTarget returns a pidfd of the target: from then on a PID that is
// reused cannot fool us. A caller that pinned it already (and checked
// whose it is) hands its pidfd over; the helper gets a copy.
func pinTarget(o *Options) (int, error) {
	var pidfd int
	var err error
	if o.Pidfd != nil {
		switch p := pidfdPID(o.Pidfd); {
		case p == -1:
			return 0, ErrTargetGone
		case p != 0 && p != o.PID:
			return 0, fmt.Errorf("the pidfd given pins process %d, not this one", p)
		}
		pidfd, err = unix.FcntlInt(o.Pidfd.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	} else {
		pidfd, err = unix.PidfdOpen(o.PID, 0)
	}
	switch {
	case errors.Is(err, unix.ESRCH):
		return 0, ErrTargetGone
	case errors.Is(err, unix.ENOSYS):
		return 0, fmt.Errorf("pidfd_open needs Linux 5.3: %w", errors.ErrUnsupported)
	case err != nil:
		return 0, fmt.Errorf("pidfd_open: %w", err)
	}
	return pidfd, nil
}

// statusSocket is the socketpair the helper reports on: our end
// non-blocking (its reads time out), the child's its fd 3.
func statusSocket() (parent, child *os.File, err error) {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	if err := unix.SetNonblock(sp[0], true); err != nil {
		unix.Close(sp[0])
		unix.Close(sp[1])
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(sp[0]), "nsenter-status"), os.NewFile(uintptr(sp[1]), "nsenter-status"), nil
}

// helperResult reads the helper's one message (protocol.go): the chunk's
// result in run mode, an error, or nothing when the command was executed.
func helperResult(status []byte, run bool, code int) ([]byte, error) {
	if len(status) == 0 {
		if run {
			return nil, fmt.Errorf("the chunk's process ended with code %d and no result", code)
		}
		return nil, nil
	}
	msg := string(status[1:])
	switch status[0] {
	case tagResult:
		if !run {
			return nil, errors.New("helper: unexpected result")
		}
		return status[1:], nil
	case tagNotFound:
		return nil, fmt.Errorf("%q: %w", msg, ErrNotFound)
	case tagGone:
		return nil, fmt.Errorf("%w (it exited before its namespaces were joined)", ErrTargetGone)
	}
	return nil, errors.New(msg)
}

// prepare reads what is needed about the target (and us) and decides what
// to join, and returns the config for the helper.
func prepare(o *Options, argv []string, run bool) (*config, error) {
	who := strconv.Itoa(o.PID)
	if o.PID == 1 && !o.AllowHost {
		return nil, fmt.Errorf("entering the host's init is %w (allow_host permits it)", ErrRefused)
	}
	mine, err := readNamespaces("self")
	if err != nil {
		return nil, err
	}
	theirs, err := readNamespaces(who)
	if err != nil {
		return nil, err
	}
	var kinds []string
	if o.Namespaces == nil {
		for _, k := range kindNames {
			if ino, ok := theirs[k]; ok && mine[k] != ino {
				kinds = append(kinds, k)
			}
		}
	} else {
		if _, err := nsMask(o.Namespaces); err != nil {
			return nil, err
		}
		for _, k := range o.Namespaces {
			ino, ok := theirs[k]
			if !ok {
				return nil, fmt.Errorf("namespace %s: not available on this kernel", k)
			}
			if mine[k] != ino {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 && !o.AllowHost {
		return nil, fmt.Errorf("it shares every namespace asked for with ctrsh, it is not in a container: entering is %w (allow_host permits it)", ErrRefused)
	}
	mask, err := nsMask(kinds)
	if err != nil {
		return nil, err
	}
	cfg := &config{pid: o.PID, nsmask: mask, run: run, nsfiles: forceNsFiles, workdir: o.Workdir, user: o.User, argv: argv}

	cfg.cgroups = o.Cgroups

	if run {
		// A chunk's Go runtime and Lua state start with an empty
		// environment: none of the target's settings (GODEBUG, LUA_PATH).
		return cfg, nil
	}
	// The command's environment is the target's, as docker exec gives it,
	// never ours. It is data for execve inside the container.
	var base []string
	if b, err := os.ReadFile("/proc/" + who + "/environ"); err == nil {
		base = parseEnviron(b)
	} else if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrTargetGone
	}
	cfg.env = mergeEnv(base, o.Env)
	return cfg, nil
}

// pidfdPID is the PID a pidfd pins, from its fdinfo (0 when unknown, -1
// when the process has exited).
func pidfdPID(f *os.File) int {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

var (
	exeOnce sync.Once
	exeFile *os.File
	exeErr  error
)

// sealedExe is a copy of /proc/self/exe in a memfd sealed against writing,
// growing and shrinking (CVE-2019-5736: a container that reaches the
// helper's /proc/PID/exe can never write the host's ctrsh). Made once per
// process, at a high fd so that os/exec's fd shuffling cannot clobber it.
func sealedExe() (*os.File, error) {
	exeOnce.Do(func() { exeFile, exeErr = makeSealedExe() })
	return exeFile, exeErr
}

func makeSealedExe() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("sealed copy of ctrsh: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("ctrsh", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // before Linux 6.3, no MFD_EXEC
		fd, err = unix.MemfdCreate("ctrsh", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("sealed copy of ctrsh: memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:ctrsh")
	defer mem.Close()
	if _, err := io.Copy(mem, src); err != nil {
		return nil, fmt.Errorf("sealed copy of ctrsh: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		return nil, fmt.Errorf("sealed copy of ctrsh: F_ADD_SEALS: %w", err)
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
	if err != nil {
		return nil, fmt.Errorf("sealed copy of ctrsh: %w", err)
	}
	return os.NewFile(uintptr(high), "memfd:ctrsh"), nil
}

var (
	childOnce sync.Once
	childSock *os.File
)

// ChildPayload returns the payload handed to Run when this process is the
// chunk-mode child inside the target's namespaces; ok is false in any other
// process. Call it first thing in main (and TestMain); when ok, run the
// payload, call ChildReply (or ChildFail) and exit.
func ChildPayload() (payload []byte, ok bool) {
	fd := childFD()
	if fd < 0 {
		return nil, false
	}
	childOnce.Do(func() { childSock = os.NewFile(uintptr(fd), "nsenter-status") })
	payload, err := io.ReadAll(childSock)
	if err != nil {
		ChildFail("reading the payload: " + err.Error())
		os.Exit(ExitSetup)
	}
	return payload, true
}

// ChildReply sends result to the parent, which Run returns.
func ChildReply(result []byte) error {
	return childSend(tagResult, result)
}

// ChildFail sends an error message to the parent, which Run returns as its error.
func ChildFail(msg string) error {
	return childSend(tagError, []byte(msg))
}

func childSend(tag byte, b []byte) error {
	if childSock == nil {
		return errors.New("nsenter: not a chunk-mode child")
	}
	var buf bytes.Buffer
	buf.WriteByte(tag)
	buf.Write(b)
	_, err := childSock.Write(buf.Bytes())
	if cerr := childSock.Close(); err == nil {
		err = cerr
	}
	return err
}
