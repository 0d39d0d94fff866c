//go:build linux && cgo

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func TestParseNsenterArgs(t *testing.T) {
	tests := []struct {
		args []string
		want nsenterOptions
		err  string
	}{
		{args: []string{"-t", "42", "-m", "-u", "-i", "-n", "-p", "--", "hostname"},
			want: nsenterOptions{target: "42", kinds: []string{"mnt", "uts", "ipc", "net", "pid"}, argv: []string{"hostname"}}},
		{args: []string{"-t42", "-muinpUCT", "ps", "-ef"},
			want: nsenterOptions{target: "42", kinds: []string{"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}, argv: []string{"ps", "-ef"}}},
		{args: []string{"--target=web", "--mount", "--net", "--join-cgroup", "--wd", "/srv", "--allow-host"},
			want: nsenterOptions{target: "web", kinds: []string{"mnt", "net"}, joinCgroup: true, workdir: "/srv", allowHost: true, argv: []string{}}},
		{args: []string{"-at", "web", "-c", "-w/tmp", "-S", "nobody", "-G0", "--", "-x"},
			want: nsenterOptions{target: "web", all: true, joinCgroup: true, workdir: "/tmp", uid: "nobody", gid: "0", argv: []string{"-x"}}},
		{args: []string{"--help"}, want: nsenterOptions{help: true, argv: []string{}}},
		{args: []string{"-m"}, err: "no target"},
		{args: []string{"-t"}, err: "option -t needs a value"},
		{args: []string{"-t", "1", "-x"}, err: "unknown option -x"},
		{args: []string{"-t", "1", "--mount=x"}, err: "unknown option --mount=x"},
	}
	for _, tt := range tests {
		got, err := parseNsenterArgs(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, *got, tt.want)
		}
	}
}

// nsenterTarget is a process in new pid, uts, ipc, net and mount
// namespaces with its own /proc; its hostname is ctrsh-test.
func nsenterTarget(t *testing.T, env ...string) int {
	t.Helper()
	testengine.NeedRoot(t, "entering namespaces")
	cmd := exec.Command("unshare", "--mount-proc", "sh", "-c", "hostname ctrsh-test; echo ready; exec sleep 1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("target: %q %v", line, err)
	}
	return cmd.Process.Pid
}

func runNsenterTest(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := runNsenter(ctx, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestNsenter(t *testing.T) {
	pid := strconv.Itoa(nsenterTarget(t, "SHELL=/no/such/shell"))
	code, out, errOut := runNsenterTest("-t", pid, "-m", "-u", "-i", "-n", "-p", "--", "hostname")
	if code != 0 || out != "ctrsh-test\n" {
		t.Errorf("hostname: code %d, %q, %q", code, out, errOut)
	}
	code, out, _ = runNsenterTest("-t", pid, "-mp", "ps", "-o", "pid=,comm=", "-p", "1")
	if code != 0 || strings.Fields(out)[1] != "sleep" {
		t.Errorf("ps -p 1 inside: code %d, %q", code, out)
	}
	if code, _, _ = runNsenterTest("-t", pid, "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit 7 passes through: %d", code)
	}
	if code, _, _ = runNsenterTest("-t", pid, "--", "sh", "-c", "kill -TERM $$"); code != 143 {
		t.Errorf("SIGTERM: %d, want 143", code)
	}
	code, _, errOut = runNsenterTest("-t", pid, "--", "no-such-tool-ctrsh")
	if code != 127 || !strings.Contains(errOut, "not found in the container") {
		t.Errorf("missing tool: %d, %q", code, errOut)
	}
	// No command: $SHELL of the target is missing inside, /bin/sh is there.
	code, out, errOut = runNsenterTest("-t", pid)
	if code != 0 || errOut != "" {
		t.Errorf("default shell with empty stdin: code %d, %q, %q", code, out, errOut)
	}
	code, _, errOut = runNsenterTest("-t", "1", "--", "true")
	if code != 77 || !strings.Contains(errOut, "refused") {
		t.Errorf("host PID 1: %d, %q", code, errOut)
	}
	// A container name goes to the engine; one that does not answer is named.
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	code, _, errOut = runNsenterTest("-t", "web", "--", "true")
	if code == 0 || !strings.Contains(errOut, "/nonexistent/docker.sock") {
		t.Errorf("container name with no engine: %d, %q", code, errOut)
	}
	code, _, errOut = runNsenterTest("-t", pid, "-w", "/nonexistent", "--", "true")
	if code != 125 || !strings.Contains(errOut, "chdir(/nonexistent)") {
		t.Errorf("bad workdir: %d, %q", code, errOut)
	}
	if code, _, _ = runNsenterTest("--bogus"); code != 64 {
		t.Errorf("bad flag: %d, want 64", code)
	}
}

func TestNsenterNoShell(t *testing.T) {
	nsenterTarget(t) // skips unless root
	// A target whose root holds one static program and no shell, as a
	// distroless image does.
	root := t.TempDir()
	bb, err := os.ReadFile("/usr/bin/busybox") // busybox-static
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("needs busybox-static, which CI installs: %v", err)
		}
		t.Skipf("needs busybox-static: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "sleep"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	// pivot_root, as a container runtime does: the root of the mount
	// namespace is then the image's, which is what entering it gives.
	script := `mount --bind "$1" "$1" && cd "$1" && mkdir old && pivot_root . old && /old/bin/umount -l /old && rmdir /old 2>/dev/null; exec /sleep 1000`
	sleeper := exec.Command("unshare", "--mount", "--pid", "--fork", "--kill-child", "sh", "-c", script, "sh", root)
	sleeper.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	sleeper.Stderr = os.Stderr
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	var target string
	for i := 0; i < 200 && target == ""; i++ { // unshare's child, once forked
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sleeper.Process.Pid, sleeper.Process.Pid))
		if k := strings.TrimSpace(string(kids)); k != "" {
			if comm, _ := os.ReadFile("/proc/" + k + "/cmdline"); strings.HasPrefix(string(comm), "/sleep") {
				target = k
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, _, errOut := runNsenterTest("-t", target)
	if code != 127 || !strings.Contains(errOut, "has no shell") || !strings.Contains(errOut, "-a -- /path/to/tool") || !strings.Contains(errOut, "c:run") {
		t.Errorf("no shell in the image: %d, %q", code, errOut)
	}
	// the one program there runs
	code, out, errOut := runNsenterTest("-t", target, "--", "/sleep", "0")
	if code != 0 {
		t.Errorf("/sleep 0 inside: %d, %q %q", code, out, errOut)
	}
}

func TestNsenterNotRoot(t *testing.T) {
	if os.Getenv("CTRSH_TEST_NSENTER_NOBODY") == "1" {
		code, _, errOut := runNsenterTest("-t", "1", "--", "true")
		if code != 77 || !strings.Contains(errOut, "needs root") {
			t.Fatalf("as nobody: %d, %q", code, errOut)
		}
		return
	}
	testengine.NeedRoot(t, "running the check as nobody")
	dir, err := os.MkdirTemp("", "ctrsh-nsenter-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "ctrsh.test")
	self, _ := os.ReadFile("/proc/self/exe")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestNsenterNotRoot$", "-test.v")
	cmd.Env = []string{"CTRSH_TEST_NSENTER_NOBODY=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
}
