//go:build linux && cgo

package nsenter

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// As runc's tests do: the test binary is its own helper. A chunk-mode child
// runs one of the little commands of testChild instead of the tests.
func TestMain(m *testing.M) {
	if payload, ok := ChildPayload(); ok {
		os.Exit(testChild(payload))
	}
	if os.Getenv("CTRSH_NSENTER_TEST_NOT_ROOT") == "1" {
		os.Exit(notRootMain())
	}
	os.Exit(m.Run())
}

func testChild(payload []byte) int {
	cmd, arg, _ := strings.Cut(string(payload), " ")
	var out string
	switch cmd {
	case "hostname":
		h, err := os.Hostname()
		if err != nil {
			ChildFail(err.Error())
			return 1
		}
		out = h
	case "read":
		b, err := os.ReadFile(arg)
		if err != nil {
			ChildFail(err.Error())
			return 1
		}
		out = string(b)
	case "pid":
		out = strconv.Itoa(os.Getpid())
	case "sleep":
		fmt.Println(os.Getpid())
		d, _ := time.ParseDuration(arg)
		time.Sleep(d)
	case "dial":
		c, err := net.DialTimeout("tcp", arg, 10*time.Second)
		if err != nil {
			ChildFail(err.Error())
			return 1
		}
		b, _ := io.ReadAll(c)
		c.Close()
		out = string(b)
	case "fail":
		ChildFail(arg)
		return 3
	default:
		ChildFail("unknown test command " + cmd)
		return 2
	}
	if err := ChildReply([]byte(out)); err != nil {
		return 1
	}
	return 0
}

// notRootMain runs as nobody: entering must fail with a permission error.
func notRootMain() int {
	_, err := Exec(context.Background(), Options{PID: 1, AllowHost: true}, []string{"true"})
	if !errors.Is(err, fs.ErrPermission) {
		fmt.Printf("want a permission error, got %v\n", err)
		return 1
	}
	fmt.Println(err)
	return 0
}

func needRoot(t *testing.T) {
	t.Helper()
	testengine.NeedRoot(t, "entering namespaces")
}

// containerCaps are dropped from the target's init and the probes, as a
// container's processes lack them: each one opens another process's memory.
const containerCaps = "-sys_ptrace,-sys_admin,-perfmon"

// target is a process in new pid, uts, ipc, net and mount namespaces (with
// its own /proc): PID 1 of its namespace is `sleep`, its hostname is
// ctrsh-test, its loopback is up. script runs before the final sleep.
type target struct {
	pid int
	cmd *exec.Cmd
}

func startTarget(t *testing.T, script string) *target {
	t.Helper()
	needRoot(t)
	sh := "ip link set lo up; hostname ctrsh-test; " + script + "; echo ready; exec setpriv --bounding-set=" + containerCaps + " sleep 1000"
	cmd := exec.Command("unshare", "--mount-proc", "sh", "-c", sh)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TARGET_MARK=in-target"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the target: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("target did not start: %q %v", line, err)
	}
	// wait until PID 1 is sleep (exec done), so the tests see a settled target
	for i := 0; i < 100; i++ {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)); strings.TrimSpace(string(b)) == "sleep" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &target{pid: cmd.Process.Pid, cmd: cmd}
}

// exec runs argv in the target and returns stdout, stderr and the code.
func (tg *target) exec(t *testing.T, o Options, argv ...string) (string, string, int, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o.PID = tg.pid
	o.Stdout, o.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, err := Exec(ctx, o, argv)
	return stdout.String(), stderr.String(), code, err
}

// bothPaths runs fn with setns(pidfd) and with /proc/PID/ns/* files.
func bothPaths(t *testing.T, fn func(t *testing.T)) {
	for _, files := range []bool{false, true} {
		name := "pidfd"
		if files {
			name = "nsfiles"
		}
		t.Run(name, func(t *testing.T) {
			forceNsFiles = files
			defer func() { forceNsFiles = false }()
			fn(t)
		})
	}
}

func TestExecHostnameAndPs(t *testing.T) {
	tg := startTarget(t, "true")
	bothPaths(t, func(t *testing.T) {
		out, errOut, code, err := tg.exec(t, Options{}, "hostname")
		if err != nil || code != 0 {
			t.Fatalf("hostname: code %d, %v, stderr %q", code, err, errOut)
		}
		if got := strings.TrimSpace(out); got != "ctrsh-test" {
			t.Errorf("hostname inside = %q, want ctrsh-test", got)
		}
		host, _ := os.Hostname()
		if host == "ctrsh-test" {
			t.Fatal("the host's own name is ctrsh-test: the test proves nothing")
		}

		out, errOut, code, err = tg.exec(t, Options{}, "ps", "-e", "-o", "pid=,comm=")
		if err != nil || code != 0 {
			t.Fatalf("ps: code %d, %v, stderr %q", code, err, errOut)
		}
		procs := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) == 2 {
				procs[f[0]] = f[1]
			}
		}
		if procs["1"] != "sleep" {
			t.Errorf("ps inside: PID 1 is %q, want the target's init sleep; ps said:\n%s", procs["1"], out)
		}
		if len(procs) > 3 {
			t.Errorf("ps inside shows %d processes, want only the target's (sleep, the helper's child, ps):\n%s", len(procs), out)
		}
	})
}

func TestExecEnvAndWorkdir(t *testing.T) {
	tg := startTarget(t, "mkdir -p /tmp/ctrsh-wd-test")
	out, _, code, err := tg.exec(t, Options{Env: []string{"EXTRA=1"}, Workdir: "/tmp"}, "sh", "-c", `echo "$TARGET_MARK $EXTRA $(pwd)"; env | grep -c _CTRSH || true`)
	if err != nil || code != 0 {
		t.Fatalf("code %d, %v", code, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "in-target 1 /tmp" {
		t.Errorf("environment and workdir inside: %q, want %q", lines[0], "in-target 1 /tmp")
	}
	if len(lines) < 2 || lines[1] != "0" {
		t.Errorf("the gate variable reached the command: %q", out)
	}
	// default working directory: the mount namespace's root
	out, _, _, err = tg.exec(t, Options{}, "pwd")
	if err != nil || strings.TrimSpace(out) != "/" {
		t.Errorf("default workdir = %q (%v), want /", out, err)
	}
	_, _, code, err = tg.exec(t, Options{Workdir: "/no/such/dir"}, "true")
	if err == nil || code != ExitSetup || !strings.Contains(err.Error(), "chdir(/no/such/dir)") {
		t.Errorf("missing workdir: code %d, %v", code, err)
	}
}

func TestExecOnlyStdioCrosses(t *testing.T) {
	tg := startTarget(t, "true")
	// An fd ctrsh inherited without close-on-exec must not reach the command.
	fd, err := syscall.Open("/etc/hostname", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	bothPaths(t, func(t *testing.T) {
		out, _, code, err := tg.exec(t, Options{}, "ls", "/proc/self/fd")
		if err != nil || code != 0 {
			t.Fatalf("code %d, %v", code, err)
		}
		fds := strings.Fields(out)
		sort.Strings(fds)
		if strings.Join(fds, " ") != "0 1 2 3" {
			t.Errorf("fds inside: %v, want 0 1 2 and the one ls opens (3); leaked fd was %d", fds, fd)
		}
	})
}

func TestExecExitCodes(t *testing.T) {
	tg := startTarget(t, "true")
	_, _, code, err := tg.exec(t, Options{}, "sh", "-c", "kill -TERM $$")
	if err != nil || code != 143 {
		t.Errorf("killed by SIGTERM: code %d, %v; want 143", code, err)
	}
	_, _, code, err = tg.exec(t, Options{}, "sh", "-c", "exit 42")
	if err != nil || code != 42 {
		t.Errorf("exit 42: code %d, %v", code, err)
	}
	_, _, code, err = tg.exec(t, Options{}, "no-such-tool-ctrsh", "x")
	if !errors.Is(err, ErrNotFound) || code != ExitNotFound || !strings.Contains(err.Error(), `"no-such-tool-ctrsh": not found in the container`) {
		t.Errorf("missing command: code %d, %v", code, err)
	}
	_, _, code, err = tg.exec(t, Options{}, "/no/such/path")
	if !errors.Is(err, ErrNotFound) || code != ExitNotFound {
		t.Errorf("missing path: code %d, %v", code, err)
	}
	_, _, code, err = tg.exec(t, Options{}, "/etc/hostname")
	if err == nil || errors.Is(err, ErrNotFound) || code != ExitCannotExec {
		t.Errorf("not executable: code %d, %v", code, err)
	}
}

func TestExecCancel(t *testing.T) {
	tg := startTarget(t, "true")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout bytes.Buffer
	done := make(chan struct{})
	var code int
	var err error
	go func() {
		defer close(done)
		code, err = Exec(ctx, Options{PID: tg.pid, Stdout: &stdout}, []string{"sh", "-c", "echo started; exec sleep 1000"})
	}()
	for i := 0; i < 500 && !strings.Contains(stdout.String(), "started"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if !errors.Is(err, context.Canceled) || code != 143 {
		t.Errorf("cancelled: code %d, %v; want 143 (SIGTERM relayed) and context.Canceled", code, err)
	}
}

func TestTargetGone(t *testing.T) {
	needRoot(t)
	// A process that no longer exists.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	_, err := Exec(context.Background(), Options{PID: cmd.Process.Pid}, []string{"true"})
	if !errors.Is(err, ErrTargetGone) {
		t.Errorf("reaped process: %v, want ErrTargetGone", err)
	}
	// A target that exits between the lookup (pinned) and the entry.
	bothPaths(t, func(t *testing.T) {
		tg := startTarget(t, "true")
		afterPin = func() {
			tg.cmd.Process.Kill()
			tg.cmd.Wait()
		}
		defer func() { afterPin = nil }()
		_, _, _, err := tg.exec(t, Options{Namespaces: []string{"uts", "net"}}, "hostname")
		if !errors.Is(err, ErrTargetGone) {
			t.Errorf("target killed after the pin: %v, want ErrTargetGone", err)
		}
	})
	// The helper's own check: the target dies after it was read but before setns.
	bothPaths(t, func(t *testing.T) {
		tg := startTarget(t, "true")
		o := Options{PID: tg.pid}
		cfg, err := prepare(&o, []string{"hostname"}, false)
		if err != nil {
			t.Fatal(err)
		}
		pidfd, err := unix.PidfdOpen(tg.pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		tg.cmd.Process.Kill()
		tg.cmd.Wait()
		code, msg := runHelperRaw(t, cfg, pidfd)
		if code != ExitSetup || !strings.HasPrefix(msg, string(tagGone)) {
			t.Errorf("helper with a dead pinned target: code %d, message %q", code, msg)
		}
	})
}

// runHelperRaw starts the helper directly with a config, as spawn does,
// for the checks that happen inside it.
func runHelperRaw(t *testing.T, cfg *config, pidfd int) (int, string) {
	t.Helper()
	conf, err := cfg.encode()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := sealedExe()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent, child := os.NewFile(uintptr(sp[0]), "p"), os.NewFile(uintptr(sp[1]), "c")
	defer parent.Close()
	pf := os.NewFile(uintptr(pidfd), "pidfd")
	cmd := exec.Command("/proc/self/fd/" + strconv.Itoa(int(exe.Fd())))
	cmd.Args = []string{"ctrsh-nsenter", "-test.run=^$"}
	cmd.Env = []string{gateEnv + "=3"}
	cmd.ExtraFiles = []*os.File{child, pf}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	pf.Close()
	parent.Write(conf)
	unix.Shutdown(sp[0], unix.SHUT_WR)
	msg, _ := io.ReadAll(parent)
	cmd.Wait()
	return exitCode(cmd.ProcessState), string(msg)
}

func TestRefusals(t *testing.T) {
	needRoot(t)
	_, err := Exec(context.Background(), Options{PID: 1}, []string{"true"})
	if !errors.Is(err, ErrRefused) {
		t.Errorf("host PID 1: %v, want ErrRefused", err)
	}
	_, err = Exec(context.Background(), Options{PID: os.Getpid()}, []string{"true"})
	if !errors.Is(err, ErrRefused) {
		t.Errorf("our own namespaces: %v, want ErrRefused", err)
	}
	var out bytes.Buffer
	code, err := Exec(context.Background(), Options{PID: os.Getpid(), AllowHost: true, Stdout: &out}, []string{"echo", "allowed"})
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "allowed" {
		t.Errorf("AllowHost: code %d, %v, %q", code, err, out.String())
	}
	_, err = Exec(context.Background(), Options{PID: os.Getpid(), Namespaces: []string{"bogus"}}, []string{"true"})
	if err == nil || !strings.Contains(err.Error(), `unknown namespace kind "bogus"`) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestNotRoot(t *testing.T) {
	needRoot(t)
	// The test binary, somewhere nobody can execute it.
	dir, err := os.MkdirTemp("", "ctrsh-nsenter-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "nsenter.test")
	exe, _ := os.ReadFile("/proc/self/exe")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"CTRSH_NSENTER_TEST_NOT_ROOT=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "needs root") {
		t.Errorf("message as nobody: %q", out)
	}
}

func TestRunChunk(t *testing.T) {
	tg := startTarget(t, "echo target-file > /tmp/ctrsh-chunk-test")
	bothPaths(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, code, err := Run(ctx, Options{PID: tg.pid}, []byte("hostname"))
		if err != nil || code != 0 || string(res) != "ctrsh-test" {
			t.Errorf("hostname chunk: %q, code %d, %v", res, code, err)
		}
		// /proc inside is the target's: its PID 1 is sleep.
		res, _, err = Run(ctx, Options{PID: tg.pid}, []byte("read /proc/1/comm"))
		if err != nil || strings.TrimSpace(string(res)) != "sleep" {
			t.Errorf("/proc/1/comm inside: %q, %v", res, err)
		}
		res, _, err = Run(ctx, Options{PID: tg.pid}, []byte("read /tmp/ctrsh-chunk-test"))
		if err != nil || strings.TrimSpace(string(res)) != "target-file" {
			t.Errorf("file in the target's mount namespace: %q, %v", res, err)
		}
		_, code, err = Run(ctx, Options{PID: tg.pid}, []byte("fail boom"))
		if err == nil || !strings.HasSuffix(err.Error(), ": boom") || code != 3 {
			t.Errorf("failing chunk: code %d, %v", code, err)
		}
	})
}

func TestRunChunkSocket(t *testing.T) {
	// A server that listens only on the target's loopback.
	tg := startTarget(t, `(python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 38781)); s.listen()
while True:
    c, _ = s.accept(); c.sendall(b"hello from the loopback inside"); c.close()' &) ; sleep 0.5`)
	if c, err := net.DialTimeout("tcp", "127.0.0.1:38781", time.Second); err == nil {
		c.Close()
		t.Fatal("the host's loopback answers on the test port: the test proves nothing")
	}
	res, code, err := Run(context.Background(), Options{PID: tg.pid}, []byte("dial 127.0.0.1:38781"))
	if err != nil || code != 0 || string(res) != "hello from the loopback inside" {
		t.Errorf("dial inside: %q, code %d, %v", res, code, err)
	}
}

func TestChildIsSealed(t *testing.T) {
	tg := startTarget(t, "true")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, _, err := Run(context.Background(), Options{PID: tg.pid, Stdout: pw}, []byte("sleep 3s"))
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	inside := strings.TrimSpace(line)
	go io.Copy(io.Discard, pr)
	// The chunk's process, by its host PID: a child of the target's namespace.
	hostPID := hostPIDOf(t, tg.pid, inside)
	exe := fmt.Sprintf("/proc/%d/exe", hostPID)
	if link, err := os.Readlink(exe); err == nil && !strings.HasPrefix(link, "/memfd:") {
		t.Errorf("the helper runs %s, want a sealed memfd", link)
	}
	// Even with every capability, the binary cannot be written through it.
	if f, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		_, werr := f.Write([]byte("x"))
		f.Close()
		if werr == nil {
			t.Errorf("wrote to %s", exe)
		}
	}
	// A root process inside with a container's capabilities (no
	// CAP_SYS_PTRACE, CAP_SYS_ADMIN or CAP_PERFMON, which all open another
	// process's memory) can read the environ of the target's dumpable init
	// but neither the environ nor the exe of the non-dumpable helper.
	probe := func(path string, write bool) error {
		op := "cat " + path + " >/dev/null"
		if write {
			op = "echo x >> " + path
		}
		_, errOut, code, err := tg.exec(t, Options{}, "setpriv", "--bounding-set="+containerCaps, "sh", "-c", op)
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			return errors.New(strings.TrimSpace(errOut))
		}
		return nil
	}
	if err := probe("/proc/1/environ", false); err != nil {
		t.Fatalf("control: a container root cannot read its init's environ (%v): the test proves nothing", err)
	}
	if err := probe("/proc/"+inside+"/environ", false); err == nil {
		t.Errorf("a container root read the helper's environ")
	}
	if err := probe("/proc/"+inside+"/exe", true); err == nil {
		t.Errorf("a container root opened the helper's exe for writing")
	}
	if err := <-done; err != nil {
		t.Errorf("sleeping chunk: %v", err)
	}
}

// hostPIDOf finds the host PID of the process whose PID in the namespace of
// target is inside.
func hostPIDOf(t *testing.T, target int, inside string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "NSpid:" && f[2] == inside {
				a, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
				b, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", target))
				if a == b {
					return pid
				}
			}
		}
	}
	t.Fatalf("no process with PID %s in the namespace of %d", inside, target)
	return 0
}

func TestJoinCgroup(t *testing.T) {
	tg := startTarget(t, "true")
	// Give the target cgroups of its own, under ours, in every hierarchy.
	// The cgroup package finds the files (bindings/ns does so for
	// join_cgroup=); this package only writes to them.
	ms, err := cgroup.ReadMounts("/")
	if err != nil {
		t.Fatal(err)
	}
	procs, err := ms.ProcsFiles(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("ctrsh-nsenter-test-%d", tg.pid)
	for _, p := range procs {
		dir := filepath.Join(filepath.Dir(p), name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} { // empty in a new cpuset cgroup
			if b, err := os.ReadFile(filepath.Join(filepath.Dir(p), f)); err == nil {
				os.WriteFile(filepath.Join(dir, f), b, 0)
			}
		}
		t.Cleanup(func() {
			tg.cmd.Process.Kill()
			tg.cmd.Wait()
			for i := 0; i < 100 && os.Remove(dir) != nil; i++ { // empties once the target is reaped
				time.Sleep(20 * time.Millisecond)
			}
		})
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(tg.pid)), 0); err != nil {
			t.Fatalf("moving the target into %s: %v", dir, err)
		}
	}
	cmpCgroups := func(join bool) (string, string) {
		var o Options
		if join {
			if o.Cgroups, err = ms.ProcsFiles(tg.pid); err != nil {
				t.Fatal(err)
			}
		}
		out, errOut, code, err := tg.exec(t, o, "sh", "-c", "cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup")
		if err != nil || code != 0 {
			t.Fatalf("code %d, %v, %s", code, err, errOut)
		}
		mine, init, _ := strings.Cut(out, "---\n")
		return mine, init
	}
	mine, init := cmpCgroups(true)
	if mine != init {
		t.Errorf("with Cgroups, /proc/self/cgroup inside:\n%s\nthe target's init:\n%s", mine, init)
	}
	if !strings.Contains(mine, name) {
		t.Errorf("joined cgroups do not name the target's: %s", mine)
	}
	mine, init = cmpCgroups(false)
	if mine == init {
		t.Errorf("without Cgroups the cgroups are the same too: the test proves nothing")
	}
}

// A pidfd the caller pinned is the one entered; one that pins another
// process, or a process that exited, is refused.
func TestExecWithCallersPidfd(t *testing.T) {
	tg := startTarget(t, "true")
	other := startTarget(t, "true")
	pin := func(pid int) *os.File {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(fd), "pidfd")
		t.Cleanup(func() { f.Close() })
		return f
	}
	mine := pin(tg.pid)
	out, errOut, code, err := tg.exec(t, Options{Pidfd: mine}, "hostname")
	if err != nil || code != 0 || out != "ctrsh-test\n" {
		t.Errorf("with the target's pidfd: code %d, %v, %q %q", code, err, out, errOut)
	}
	if err := unix.PidfdSendSignal(int(mine.Fd()), 0, nil, 0); err != nil {
		t.Errorf("the caller's pidfd was closed: %v", err)
	}
	_, _, _, err = tg.exec(t, Options{Pidfd: pin(other.pid)}, "hostname")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pins process %d, not this one", other.pid)) {
		t.Errorf("with another process's pidfd: %v", err)
	}
	gone := pin(other.pid)
	other.cmd.Process.Kill()
	other.cmd.Wait()
	if _, err := Exec(context.Background(), Options{PID: other.pid, Pidfd: gone}, []string{"true"}); !errors.Is(err, ErrTargetGone) {
		t.Errorf("with the pidfd of a process that exited: %v, want ErrTargetGone", err)
	}
}
