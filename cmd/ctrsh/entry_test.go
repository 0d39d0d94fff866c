package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// hostileLib builds a shared library whose constructor (and LD_AUDIT entry
// point) appends to marker: were the host's dynamic loader ever to load it
// for ctrsh, the marker would say so.
func hostileLib(t *testing.T, marker string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "hostile.c")
	code := `#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void mark(const char *how)
{
	char buf[128];
	int fd = open(MARKER, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return;
	snprintf(buf, sizeof(buf), "%s pid %d uid %d\n", how, (int)getpid(), (int)getuid());
	if (write(fd, buf, strlen(buf)) < 0) {
	}
	close(fd);
}

__attribute__((constructor)) static void init(void) { mark("constructor"); }

unsigned int la_version(unsigned int v)
{
	mark("la_version");
	return v;
}
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libhostile.so")
	out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", lib, fmt.Sprintf("-DMARKER=%q", marker), src).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	// The library really is loaded where the loader is told to: the check
	// below would prove nothing otherwise.
	if out, err := exec.Command("env", "LD_PRELOAD="+lib, "true").CombinedOutput(); err != nil {
		t.Fatalf("LD_PRELOAD=%s true: %v\n%s", lib, err, out)
	}
	if b, _ := os.ReadFile(marker); !strings.Contains(string(b), "constructor") {
		t.Fatalf("the hostile library did not mark %s when preloaded: %q", marker, b)
	}
	os.Remove(marker)
	return lib
}

// A container whose environment names a host library for the dynamic
// loader (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH) and settings for Go's
// runtime and Lua: no way in runs that library as host root, and the
// command inside still gets the container's environment.
func TestEntryIgnoresTargetEnvironment(t *testing.T) {
	testengine.NeedRoot(t, "entering namespaces")
	marker := filepath.Join(t.TempDir(), "loaded")
	lib := hostileLib(t, marker)
	name := fmt.Sprintf("hostile-env-%d", time.Now().UnixNano())
	startBusyboxWith(t, name, []string{"-e", "LD_PRELOAD=" + lib, "-e", "LD_AUDIT=" + lib, "-e", "LD_LIBRARY_PATH=" + filepath.Dir(lib),
		"-e", "GODEBUG=madvdontneed=0", "-e", "GOTRACEBACK=crash", "-e", "LUA_PATH=/evil/?.lua", "-e", "GREETING=from-the-image"},
		"sleep", "1000")
	env := engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit.jsonl"))
	pid := strings.TrimSpace(testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", name))

	ways := []struct {
		name string
		args []string
	}{
		{"ctrsh nsenter", []string{"nsenter", "-t", name, "--", "true"}},
		{"c:enter", []string{"-e", `assert(assert(docker.container(arg[1])):enter{"true"})`, name}},
		{"c:run", []string{"-e", `assert(assert(docker.container(arg[1])):run[[ return 1 ]])`, name}},
		{"ns.enter by name", []string{"-e", `assert(ns.enter(arg[1], {"true"}))`, name}},
		{"ns.enter by pid", []string{"-e", `assert(ns.enter(tonumber(arg[1]), {"true"}))`, pid}},
		{"ns.run by name", []string{"-e", `assert(ns.run(arg[1], [[ return 1 ]]))`, name}},
		{"ns.run by pid", []string{"-e", `assert(ns.run(tonumber(arg[1]), [[ return 1 ]]))`, pid}},
	}
	for _, w := range ways {
		r := ctrshEnv(t, env, "", w.args...)
		if r.code != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", w.name, r.code, r.stdout, r.stderr)
		}
		if b, err := os.ReadFile(marker); err == nil {
			t.Errorf("%s loaded the container's LD_* library on the host: %q", w.name, b)
			os.Remove(marker)
		}
	}

	// The command inside sees the container's own variables, env= on top.
	r := ctrshEnv(t, env, "", "-e", `io.write(assert(assert(docker.container(arg[1])):enter({"env"}, {env = {EXTRA = "x"}})).stdout)`, name)
	for _, want := range []string{"GREETING=from-the-image", "LD_PRELOAD=" + lib, "LUA_PATH=/evil/?.lua", "EXTRA=x", "HOSTNAME=" + name} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("c:enter{\"env\"} lacks %s: exit %d, stdout %q, stderr %q", want, r.code, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "_CTRSH_NSENTER") || strings.Contains(r.stdout, "CTRSH_AUDIT_FILE") {
		t.Errorf("ctrsh's own environment reached the command: %q", r.stdout)
	}
	r = ctrshEnv(t, env, "", "nsenter", "-t", name, "--", "env")
	if r.code != 0 || !strings.Contains(r.stdout, "GREETING=from-the-image\n") || strings.Contains(r.stdout, "CTRSH_AUDIT_FILE") {
		t.Errorf("ctrsh nsenter -- env: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// A chunk's Go runtime and Lua state start with none of the target's
	// settings (GODEBUG, GOTRACEBACK, LUA_PATH).
	r = ctrshEnv(t, env, "", "-e", `
		local c = assert(docker.container(arg[1]))
		print(assert(c:run[[ return string.format("%s|%s|%s|%s", tostring(os.getenv("GODEBUG")),
			tostring(os.getenv("GOTRACEBACK")), tostring(os.getenv("LUA_PATH")), package.path) ]]))`, name)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "nil|nil|nil|") || strings.Contains(r.stdout, "/evil/") {
		t.Errorf("c:run's state: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// processesIn lists the host PIDs of processes in container id's PID
// namespace whose command line is argv.
func processesIn(t *testing.T, id string, argv ...string) []int {
	want := strings.Join(argv, "\x00") + "\x00"
	initPID, _ := testengine.Docker(t, "inspect", "--format", "{{.State.Pid}}", id)
	pidns, err := os.Readlink("/proc/" + strings.TrimSpace(initPID) + "/ns/pid")
	if err != nil {
		return nil
	}
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		ns, _ := os.Readlink("/proc/" + e.Name() + "/ns/pid")
		if string(cmdline) == want && ns == pidns {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits up to d for the processes of container id running argv
// to be gone, and returns those left.
func waitGone(t *testing.T, id string, d time.Duration, argv ...string) []int {
	deadline := time.Now().Add(d)
	for {
		left := processesIn(t, id, argv...)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A command entered as another user (user= drops root, and with it the
// parent-death signal set before) never outlives ctrsh: not after
// --timeout, not after kill -9.
func TestEnteredCommandDiesWithCtrsh(t *testing.T) {
	testengine.NeedRoot(t, "entering namespaces")
	name := fmt.Sprintf("outlive-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	env := engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit.jsonl"))
	const enter = `local c = assert(docker.container(arg[1])) print(c:enter({"sleep", "1234"}, {user = "nobody"}))`
	t.Cleanup(func() {
		for _, pid := range processesIn(t, id, "sleep", "1234") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	r := ctrshEnv(t, env, "", "--timeout", "2s", "-e", enter, name)
	if r.code != 124 {
		t.Errorf("--timeout 2s: exit %d, want 124; stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if left := waitGone(t, id, 5*time.Second, "sleep", "1234"); len(left) > 0 {
		t.Errorf("after --timeout: sleep 1234 still runs in the container 5 s later (host PIDs %v)", left)
	}

	// A command that ignores SIGTERM is killed when nsenter's grace ends,
	// which is before the watchdog's: the run unwinds (no hard exit) and
	// the end of the entry is audited.
	const stubborn = `local c = assert(docker.container(arg[1]))
		print(c:enter({"sh", "-c", "trap '' TERM; exec sleep 1234"}, {user = "nobody"}))`
	r = ctrshEnv(t, env, "", "--timeout", "1s", "-e", stubborn, name)
	if r.code != 124 || strings.Contains(r.stderr, "hard exit") {
		t.Errorf("--timeout 1s, SIGTERM ignored: exit %d, want 124 without a hard exit; stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if left := waitGone(t, id, 5*time.Second, "sleep", "1234"); len(left) > 0 {
		t.Errorf("after --timeout, SIGTERM ignored: sleep 1234 still runs in the container 5 s later (host PIDs %v)", left)
	}

	cmd := exec.Command(ctrshBinary(t), "-e", enter, name)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(processesIn(t, id, "sleep", "1234")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(processesIn(t, id, "sleep", "1234")) == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("sleep 1234 never started in the container")
	}
	cmd.Process.Kill() // SIGKILL: nothing of ctrsh's runs after it
	cmd.Wait()
	if left := waitGone(t, id, 5*time.Second, "sleep", "1234"); len(left) > 0 {
		t.Errorf("after kill -9 of ctrsh: sleep 1234 still runs in the container 5 s later (host PIDs %v)", left)
	}
}

// auditRecords reads the JSON lines of an audit file.
func auditRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// readOnlyDir is an empty directory that even root cannot write in (a
// read-only bind mount of itself), for an audit log that cannot be written.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("read-only remount of %s: %v", dir, err)
	}
	return dir
}

// ctrsh nsenter is audited as c:enter is, and refused (77) when its start
// record cannot be written.
func TestNsenterAudit(t *testing.T) {
	testengine.NeedRoot(t, "entering namespaces")
	name := fmt.Sprintf("nsenter-audit-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	initPID, _ := strconv.Atoi(testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id))
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")

	r := ctrshEnv(t, engineEnv(t, "CTRSH_AUDIT_FILE="+auditFile), "", "nsenter", "-t", name, "--", "true")
	if r.code != 0 {
		t.Fatalf("ctrsh nsenter -t %s -- true: exit %d, stderr %q", name, r.code, r.stderr)
	}
	var phases []string
	for _, rec := range auditRecords(t, auditFile) {
		phases = append(phases, fmt.Sprint(rec["action"], " ", rec["phase"]))
		if !strings.Contains(fmt.Sprint(rec["subject"]), name) || rec["user"] == "" || (rec["phase"] == "start" && fmt.Sprint(rec["cmd"]) != "[true]") {
			t.Errorf("audit record %v", rec)
		}
		// pid is ctrsh's own, target_pid the process entered.
		if rec["target_pid"] != float64(initPID) || rec["pid"] == rec["target_pid"] || rec["pid"] == nil {
			t.Errorf("audit record pid %v, target_pid %v; want ctrsh's and %d", rec["pid"], rec["target_pid"], initPID)
		}
		if rec["phase"] == "end" && (rec["result"] != "ok" || rec["code"] != float64(0)) {
			t.Errorf("end record %v", rec)
		}
	}
	if strings.Join(phases, ",") != "enter start,enter end" {
		t.Errorf("audit records %v, want enter start, enter end", phases)
	}

	// An audit log that cannot be written: nothing is entered.
	unwritable := filepath.Join(readOnlyDir(t), "audit.jsonl")
	r = ctrshEnv(t, engineEnv(t, "CTRSH_AUDIT_FILE="+unwritable), "", "nsenter", "-t", name, "--", "touch", "/tmp/entered")
	if r.code != 77 || !strings.Contains(r.stderr, "audit") || !strings.Contains(r.stderr, "read-only file system") {
		t.Errorf("unwritable audit log: exit %d, stderr %q; want 77 and the reason", r.code, r.stderr)
	}
	if _, err := testengine.Docker(t, "exec", id, "test", "-e", "/tmp/entered"); err == nil {
		t.Errorf("the entry went on without its audit record: /tmp/entered exists in the container")
	}
}

// As root, every audited action whose start record cannot be written is
// refused with nil, "audit: ...", and changes nothing.
func TestAuditFailsClosed(t *testing.T) {
	testengine.NeedRoot(t, "the audit log fails closed for root")
	name := fmt.Sprintf("audit-closed-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	unwritable := filepath.Join(readOnlyDir(t), "audit.jsonl")
	r := ctrshEnv(t, engineEnv(t, "CTRSH_AUDIT_FILE="+unwritable), "", "-e", `
		local c = assert(docker.container(arg[1]))
		local calls = {
			enter = function() return c:enter{"touch", "/tmp/entered"} end,
			run = function() return c:run[[ io.open("/tmp/ran", "w"):close() return 1 ]] end,
			exec = function() return c:exec{"touch", "/tmp/execd"} end,
			kill = function() return c:kill("KILL") end,
			stop = function() return c:stop{timeout = 0} end,
			restart = function() return c:restart{timeout = 0} end,
			pause = function() return c:pause() end,
			unpause = function() return c:unpause() end,
			start = function() return c:start() end,
			["ns.enter"] = function() return ns.enter(arg[1], {"touch", "/tmp/nsentered"}) end,
			["ns.run"] = function() return ns.run(c.pid, [[ io.open("/tmp/nsran", "w"):close() return 1 ]]) end,
		}
		for _, what in ipairs{"enter", "run", "exec", "kill", "stop", "restart", "pause", "unpause", "start", "ns.enter", "ns.run"} do
			local ok, err = calls[what]()
			print(what, tostring(ok), tostring(err))
		end`, name)
	if r.code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 11 {
		t.Fatalf("stdout %q", r.stdout)
	}
	for _, line := range lines {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || f[1] != "nil" || !strings.HasPrefix(f[2], "audit: ") || !strings.Contains(f[2], "read-only file system") {
			t.Errorf("%s: want nil, \"audit: ...\"", line)
		}
	}
	if st := testengine.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}", id); !strings.HasPrefix(st, "running ") {
		t.Errorf("the container changed: %s", st)
	}
	out, _ := testengine.Docker(t, "exec", id, "ls", "/tmp")
	if strings.TrimSpace(out) != "" {
		t.Errorf("actions refused for want of an audit record left traces in /tmp: %q", out)
	}
}
