package scripts_test

// End-to-end tests of the bundled playbooks: each runs as users run it,
// `ctrsh run NAME ARGS... --json`, against the private test engine, and its
// output is checked against what the engine, /proc and the cgroup files say.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/journal"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/scripts"
)

// runTimeout bounds every ctrsh run, so a hung playbook fails its test.
const runTimeout = 2 * time.Minute

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ctrshBinary builds cmd/ctrsh once per test binary.
func ctrshBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			buildErr = errors.New("cannot find the module root")
			return
		}
		root := filepath.Dir(filepath.Dir(file))
		dir, err := os.MkdirTemp("", "ctrsh-scripts-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ctrsh")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/ctrsh")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ctrsh: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// env is the environment of a run: the test engine, a private lock
// directory, audit file and HOME (so no ~/.config/ctrsh/playbooks shadows
// the bundled ones), no colour.
func env(t *testing.T) []string {
	t.Helper()
	return envOn(t, testengine.Default)
}

// envOn is env for the engine g.
func envOn(t *testing.T, g *testengine.Target) []string {
	t.Helper()
	tmp := t.TempDir()
	var e []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "DOCKER_HOST", "DOCKER_CONTEXT", "CTRSH_LOCK_DIR", "CTRSH_AUDIT_FILE", "CTRSH_PLAYBOOK_DIR", "HOME":
			continue
		}
		e = append(e, kv)
	}
	return append(e,
		"DOCKER_HOST="+g.Host(t),
		"CTRSH_LOCK_DIR="+filepath.Join(tmp, "locks"),
		"CTRSH_AUDIT_FILE="+filepath.Join(tmp, "audit.jsonl"),
		"HOME="+tmp,
		"NO_COLOR=1",
	)
}

type result struct {
	code           int
	stdout, stderr string
}

func exitCode(err error) (int, error) {
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	case err != nil:
		return 0, err
	}
	return 0, nil
}

// ctrsh runs `ctrsh run NAME ARGS...`, bounded by runTimeout.
func ctrsh(t *testing.T, args ...string) result {
	t.Helper()
	return ctrshOn(t, testengine.Default, args...)
}

// ctrshOn is ctrsh against the engine g.
func ctrshOn(t *testing.T, g *testengine.Target, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctrshBinary(t), append([]string{"run"}, args...)...)
	cmd.Env = envOn(t, g)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code, err := exitCode(cmd.Run())
	if ctx.Err() != nil {
		t.Fatalf("ctrsh run %s: did not finish in %v (stderr %q)", strings.Join(args, " "), runTimeout, stderr.String())
	}
	if err != nil {
		t.Fatalf("ctrsh run %s: %v", strings.Join(args, " "), err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// mustRun runs a playbook with --json, wants exit code want and returns its
// records. Every line of stdout must be one JSON object.
func mustRun(t *testing.T, want int, args ...string) []map[string]any {
	t.Helper()
	return mustRunOn(t, testengine.Default, want, args...)
}

// mustRunOn is mustRun against the engine g.
func mustRunOn(t *testing.T, g *testengine.Target, want int, args ...string) []map[string]any {
	t.Helper()
	r := ctrshOn(t, g, append(args, "--json")...)
	if r.code != want {
		t.Fatalf("ctrsh run %s --json: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return records(t, r.stdout)
}

func records(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line == "" && stdout == "" {
			break
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line %d is not a JSON object: %v\n%q", i+1, err, line)
		}
		recs = append(recs, m)
	}
	return recs
}

var nameSeq atomic.Int64

// uniqueName is a container name no other test, or other run, uses.
func uniqueName(what string) string {
	return fmt.Sprintf("pb-%s-%d-%d-%d", what, os.Getpid(), time.Now().UnixNano()%1e9, nameSeq.Add(1))
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s (last error: %v)", limit, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitLogsOn(t *testing.T, g *testengine.Target, name, marker string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%q in the logs of %s", marker, name), 30*time.Second, func() (bool, error) {
		cmd := exec.Command("docker", "-H", g.Host(t), "logs", name)
		out, err := cmd.CombinedOutput()
		return strings.Contains(string(out), marker), err
	})
}

func inspectState(t *testing.T, name string) map[string]any {
	t.Helper()
	return inspectStateOn(t, testengine.Default, name)
}

func inspectStateOn(t *testing.T, g *testengine.Target, name string) map[string]any {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(g.MustDocker(t, "inspect", "-f", "{{json .State}}", name)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func containerPID(t *testing.T, name string) int {
	t.Helper()
	return containerPIDOn(t, testengine.Default, name)
}

func containerPIDOn(t *testing.T, g *testengine.Target, name string) int {
	t.Helper()
	pid, err := strconv.Atoi(g.MustDocker(t, "inspect", "-f", "{{.State.Pid}}", name))
	if err != nil || pid <= 0 {
		t.Fatalf("container %s: no pid (%v)", name, err)
	}
	return pid
}

// cgroupPIDs lists the processes of the pids cgroup of process pid (the
// kernel's list of a container's processes), each checked to be a sleep.
func cgroupPIDs(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`(?m)^\d+:pids:(.*)$`).FindSubmatch(b)
	if m == nil {
		m = regexp.MustCompile(`(?m)^0::(.*)$`).FindSubmatch(b)
	}
	if m == nil {
		return nil, fmt.Errorf("/proc/%d/cgroup: %q", pid, b)
	}
	dir := "/sys/fs/cgroup" + string(m[1])
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err == nil {
		dir = "/sys/fs/cgroup/pids" + string(m[1])
	}
	procs, err := os.ReadFile(dir + "/cgroup.procs")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range strings.Fields(string(procs)) {
		if comm, _ := os.ReadFile("/proc/" + p + "/comm"); strings.TrimSpace(string(comm)) != "sleep" {
			return nil, fmt.Errorf("process %s is %q", p, comm)
		}
		out = append(out, p)
	}
	return out, nil
}

// nsInode is the inode of /proc/PID/ns/KIND, 0 when the kernel has no such kind.
func nsInode(t *testing.T, pid int, kind string) float64 {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\[(\d+)\]`).FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("/proc/%d/ns/%s -> %q: no inode", pid, kind, link)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return n
}

// hostNSInode is the host's namespace of a kind, as inspect-ns takes it:
// PID 1's, or this process's where PID 1's cannot be read (a sandbox
// that hides its init).
func hostNSInode(t *testing.T, kind string) float64 {
	t.Helper()
	if _, err := os.Readlink("/proc/1/ns/" + kind); err == nil {
		return nsInode(t, 1, kind)
	}
	return nsInode(t, os.Getpid(), kind)
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func num(t *testing.T, rec map[string]any, key string) float64 {
	t.Helper()
	n, ok := rec[key].(float64)
	if !ok {
		t.Fatalf("%q is %#v, want a number, in %v", key, rec[key], rec)
	}
	return n
}

func byContainer(t *testing.T, recs []map[string]any, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range recs {
		if r["container"] == name {
			out = append(out, r)
		}
	}
	return out
}

var allPlaybooks = []string{"diag-bundle", "env-audit", "health", "inspect-ns", "log-errors", "oom-victims", "oomwatch",
	"pidmap", "restart-loop", "timeline", "top-cpu", "top-mem", "trace-connect", "trace-exec", "zombies"}

// Every bundled playbook is there and answers --help with its description.
func TestHelp(t *testing.T) {
	if got := scripts.Names(); !slices.Equal(got, allPlaybooks) {
		t.Errorf("scripts.Names() = %v, want %v", got, allPlaybooks)
	}
	for _, name := range allPlaybooks {
		src, ok := scripts.Source(name)
		if !ok {
			t.Errorf("%s: no source", name)
			continue
		}
		desc := scripts.Description(src)
		if desc == "" {
			t.Errorf("%s: no description", name)
		}
		r := ctrsh(t, name, "--help")
		if r.code != 0 {
			t.Errorf("ctrsh run %s --help: exit %d, stderr %q", name, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "usage: "+name) || !strings.Contains(r.stdout, desc) {
			t.Errorf("ctrsh run %s --help: %q, want the usage and %q", name, r.stdout, desc)
		}
	}
}

// Bad arguments are a usage error, 64.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"health", "--restarts", "many"},
		{"pidmap", "a", "b", "c"},
		{"top-cpu", "--nope", "1"},
		{"diag-bundle"},
	} {
		if r := ctrsh(t, args...); r.code != 64 {
			t.Errorf("ctrsh run %s: exit %d, want 64 (stderr %q)", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// pidmap: one record per process, host PIDs as docker top has them, PIDs
// inside as the kernel's NSpid.
func TestPidmap(t *testing.T) {
	t.Parallel()
	testPidmap(t, testengine.Default)
}

func testPidmap(t *testing.T, g *testengine.Target) {
	name := uniqueName("pidmap")
	g.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "sleep 1000 & sleep 1000")
	var top []string
	waitFor(t, "two sleeps in "+name, 30*time.Second, func() (bool, error) {
		if g == testengine.Podman {
			// Podman's top gives the PIDs inside: ask the kernel.
			var err error
			top, err = cgroupPIDs(containerPIDOn(t, g, name))
			return len(top) == 2, err
		}
		out, err := g.Docker(t, "top", name, "-o", "pid,comm")
		if err != nil {
			return false, err
		}
		top = nil
		for _, line := range strings.Split(out, "\n")[1:] {
			f := strings.Fields(line)
			if len(f) != 2 || f[1] != "sleep" {
				return false, fmt.Errorf("docker top: %q", out)
			}
			top = append(top, f[0])
		}
		return len(top) == 2, nil
	})
	recs := mustRunOn(t, g, 0, "pidmap", name)
	var hostPIDs []string
	insides := map[float64]bool{}
	for _, r := range recs {
		if r["container"] != name {
			t.Errorf("record of another container: %v", r)
			continue
		}
		hostPID := num(t, r, "host_pid")
		inside := num(t, r, "pid_inside")
		hostPIDs = append(hostPIDs, strconv.Itoa(int(hostPID)))
		insides[inside] = true
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", int(hostPID)))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^NSpid:\s*(.*)$`).FindSubmatch(status)
		if m == nil {
			t.Fatalf("/proc/%d/status: no NSpid", int(hostPID))
		}
		nspid := strings.Fields(string(m[1]))
		if want := nspid[len(nspid)-1]; strconv.Itoa(int(inside)) != want {
			t.Errorf("host pid %d: pid_inside %v, want %s (NSpid %v)", int(hostPID), inside, want, nspid)
		}
		if str(r["cmd"]) != "sleep 1000" {
			t.Errorf("host pid %d: cmd %q, want \"sleep 1000\"", int(hostPID), str(r["cmd"]))
		}
	}
	sort.Strings(hostPIDs)
	sort.Strings(top)
	if !slices.Equal(hostPIDs, top) {
		t.Errorf("host PIDs %v, docker top says %v", hostPIDs, top)
	}
	if !insides[1] {
		t.Errorf("no process is PID 1 inside: %v", recs)
	}
}

// inspect-ns: namespaces shared with the host (--pid host, --net host) or
// with another container (--net container:X) are shown as shared, with
// whom; every inode is the kernel's.
func TestInspectNS(t *testing.T) {
	t.Parallel()
	testInspectNS(t, testengine.Default)
}

func testInspectNS(t *testing.T, g *testengine.Target) {
	hostNS := g.Run(t, "--name", uniqueName("ns-host"), "--pid", "host", "--net", "host", testengine.BusyboxImage, "sleep", "1000")
	hostName := strings.TrimPrefix(g.MustDocker(t, "inspect", "-f", "{{.Name}}", hostNS), "/")
	joined := uniqueName("ns-joined")
	g.Run(t, "--name", joined, "--net", "container:"+hostName, testengine.BusyboxImage, "sleep", "1000")
	plain := uniqueName("ns-plain")
	g.Run(t, "--name", plain, testengine.BusyboxImage, "sleep", "1000")

	check := func(name string, wantShared map[string][]string) {
		t.Helper()
		pid := containerPIDOn(t, g, name)
		recs := mustRunOn(t, g, 0, "inspect-ns", name)
		got := map[string]map[string]any{}
		for _, r := range recs {
			if r["container"] != name {
				t.Errorf("%s: record of another container: %v", name, r)
			}
			got[str(r["ns"])] = r
		}
		for _, kind := range []string{"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"} {
			inode := nsInode(t, pid, kind)
			r, ok := got[kind]
			if inode == 0 {
				if ok {
					t.Errorf("%s: %s: the kernel has no such namespace, but %v", name, kind, r)
				}
				continue
			}
			if !ok {
				t.Errorf("%s: no record for %s", name, kind)
				continue
			}
			if num(t, r, "inode") != inode {
				t.Errorf("%s: %s inode %v, /proc says %v", name, kind, r["inode"], inode)
			}
			with := strings.Split(str(r["shared_with"]), ",")
			withHost := slices.Contains(with, "host")
			if real := hostNSInode(t, kind) == inode; withHost != real {
				t.Errorf("%s: %s: shared with host %v, /proc says %v (%v)", name, kind, withHost, real, r)
			}
			if r["shared"] != (str(r["shared_with"]) != "") {
				t.Errorf("%s: %s: shared=%v but shared_with=%q", name, kind, r["shared"], r["shared_with"])
			}
			for _, w := range wantShared[kind] {
				if !slices.Contains(with, w) {
					t.Errorf("%s: %s: shared_with %q, want it to name %s", name, kind, r["shared_with"], w)
				}
			}
			if wantShared[kind] == nil && kind != "user" && kind != "cgroup" && kind != "time" && r["shared"] != false {
				t.Errorf("%s: %s: %v, want not shared", name, kind, r)
			}
		}
	}
	check(hostName, map[string][]string{"pid": {"host"}, "net": {"host", joined}})
	check(joined, map[string][]string{"net": {"host", hostName}})
	check(plain, map[string][]string{})
}

// oomwatch: running in the background, it writes a bundle for an OOM kill
// in a container started after it, and SIGTERM ends it with 143.
func TestOOMWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(ctrshBinary(t), "run", "oomwatch", "--dir", dir, "--json")
	cmd.Env = env(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	lines := make(chan string, 100)
	var errText strings.Builder
	var errMu sync.Mutex
	watching := make(chan struct{})
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			errMu.Lock()
			errText.WriteString(sc.Text() + "\n")
			errMu.Unlock()
			if strings.Contains(sc.Text(), "watching") {
				once.Do(func() { close(watching) })
			}
		}
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		pipes.Wait()
		exited <- cmd.Wait()
	}()
	stderrText := func() string { errMu.Lock(); defer errMu.Unlock(); return errText.String() }

	select {
	case <-watching:
	case <-time.After(30 * time.Second):
		t.Fatalf("oomwatch did not start watching in 30 s; stderr %q", stderrText())
	}
	name := uniqueName("oomwatch")
	id := testengine.Run(t, "--name", name, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage,
		"sh", "-c", "sleep 2; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100000")

	var rec map[string]any
	timeout := time.After(30 * time.Second)
	for rec == nil {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("oomwatch ended early; stderr %q", stderrText())
			}
			for _, r := range records(t, line) {
				if r["container"] == name {
					rec = r
				}
			}
		case <-timeout:
			t.Fatalf("no bundle for %s in 30 s; stderr %q", name, stderrText())
		}
	}
	if rec["source"] != "cgroup" || num(t, rec, "oom_kills") < 1 {
		t.Errorf("record %v: want source cgroup and oom_kills >= 1 (the counter saw the kill)", rec)
	}
	bundle := str(rec["bundle"])
	if filepath.Dir(bundle) != dir {
		t.Fatalf("bundle %q not in %q", bundle, dir)
	}
	readJSON := func(file string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(bundle, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	var mem map[string]any
	readJSON("memory.json", &mem)
	if num(t, mem, "limit") != 32<<20 || num(t, mem, "oom_kills") < 1 {
		t.Errorf("memory.json: limit %v, oom_kills %v; want 32 MiB and >= 1", mem["limit"], mem["oom_kills"])
	}
	if stat, _ := mem["stat"].(map[string]any); stat["rss"] == nil || stat["cache"] == nil && stat["file"] == nil {
		t.Errorf("memory.json: no stat breakdown: %v", mem["stat"])
	}
	var top []map[string]any
	readJSON("top.json", &top)
	if len(top) == 0 || top[0]["pid"] == nil {
		t.Errorf("top.json: %v, want the container's processes", top)
	}
	var doc map[string]any
	readJSON("inspect.json", &doc)
	if doc["Id"] != id {
		t.Errorf("inspect.json: Id %v, want %s", doc["Id"], id)
	}
	var ev map[string]any
	readJSON("event.json", &ev)
	if ev["container"] != name || ev["id"] != id || ev["time"] == nil {
		t.Errorf("event.json: %v", ev)
	}
	if et, ok := ev["engine_event_time"].(float64); ok {
		t.Logf("bundle written %.3f s after the engine's oom event", num(t, ev, "time")-et)
	}
	if _, err := os.Stat(filepath.Join(bundle, "logs.txt")); err != nil {
		t.Error(err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	select {
	case err := <-exited:
		exited <- err
		code, err := exitCode(err)
		if err != nil || code != 143 {
			t.Errorf("after SIGTERM: exit %d (%v), want 143; stderr %q", code, err, stderrText())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("oomwatch still running 30 s after SIGTERM")
	}
}

// memUsageOn is docker stats' memory usage of a container, in bytes.
func memUsageOn(t *testing.T, g *testengine.Target, name string) (float64, error) {
	out, err := g.Docker(t, "stats", "--no-stream", "--format", "{{.MemUsage}}", name)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`^([\d.]+)(B|KiB|MiB|GiB)`).FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("docker stats: %q", out)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return n * map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]], nil
}

// top-mem and top-cpu rank a CPU burner under a 0.5 CPU quota and a
// container holding 30 MB under a 64 MiB limit.
func TestTopMemCPU(t *testing.T) {
	t.Parallel()
	testTopMemCPU(t, testengine.Default)
}

func testTopMemCPU(t *testing.T, g *testengine.Target) {
	label := "ctrsh.test.case=" + uniqueName("top")
	burner, holder := uniqueName("cpu"), uniqueName("mem")
	g.Run(t, "--name", burner, "--label", label, "--cpus", "0.5", testengine.BusyboxImage, "sh", "-c", "while :; do :; done")
	g.Run(t, "--name", holder, "--label", label, "--memory", "64m", testengine.BusyboxImage,
		"sh", "-c", "head -c 30000000 /dev/zero | tail | sleep 100000")
	waitFor(t, holder+" holding 25 MB", 30*time.Second, func() (bool, error) {
		n, err := memUsageOn(t, g, holder)
		return n > 25e6, err
	})

	recs := mustRunOn(t, g, 0, "top-mem", "--label", label)
	if len(recs) != 2 || recs[0]["container"] != holder || recs[1]["container"] != burner {
		t.Fatalf("top-mem: %v, want %s then %s", recs, holder, burner)
	}
	for i, r := range recs {
		for _, k := range []string{"rank", "working_set", "usage", "limit", "pct_of_limit", "failcnt", "oom_kills"} {
			if _, ok := r[k]; !ok {
				t.Errorf("top-mem: no %q in %v", k, r)
			}
		}
		if num(t, r, "rank") != float64(i+1) {
			t.Errorf("top-mem: rank %v at position %d", r["rank"], i+1)
		}
	}
	h := recs[0]
	ws := num(t, h, "working_set")
	if ws < 25e6 || num(t, h, "limit") != 64<<20 {
		t.Errorf("top-mem: %s: working_set %v, limit %v; want > 25e6 and 64 MiB", holder, ws, h["limit"])
	}
	if pct, want := num(t, h, "pct_of_limit"), 100*ws/(64<<20); pct < want-0.1 || pct > want+0.1 {
		t.Errorf("top-mem: %s: pct_of_limit %v, want %.1f", holder, pct, want)
	}
	if recs[1]["limit"] != "unlimited" || recs[1]["pct_of_limit"] != "-" {
		t.Errorf("top-mem: %s has no limit: %v", burner, recs[1])
	}

	recs = mustRunOn(t, g, 0, "top-cpu", "--label", label, "--interval", "1")
	if len(recs) != 2 || recs[0]["container"] != burner || recs[1]["container"] != holder {
		t.Fatalf("top-cpu: %v, want %s then %s", recs, burner, holder)
	}
	for _, r := range recs {
		for _, k := range []string{"rank", "cpu_percent", "quota_cores", "pct_of_quota", "nr_throttled", "throttled_s"} {
			if _, ok := r[k]; !ok {
				t.Errorf("top-cpu: no %q in %v", k, r)
			}
		}
	}
	b := recs[0]
	if num(t, b, "quota_cores") != 0.5 {
		t.Errorf("top-cpu: %s: quota_cores %v, want 0.5", burner, b["quota_cores"])
	}
	if num(t, b, "cpu_percent") <= num(t, recs[1], "cpu_percent") {
		t.Errorf("top-cpu: the burner uses no more CPU than the idle one: %v", recs)
	}
	// A busy loop under a 0.5 CPU quota is throttled in most 100 ms periods.
	if num(t, b, "nr_throttled") < 1 {
		t.Errorf("top-cpu: %s: nr_throttled %v, want > 0", burner, b["nr_throttled"])
	}
	if want := num(t, b, "cpu_percent") / 0.5; num(t, b, "pct_of_quota") < want-0.2 || num(t, b, "pct_of_quota") > want+0.2 {
		t.Errorf("top-cpu: %s: pct_of_quota %v, want cpu_percent/0.5 = %.1f", burner, b["pct_of_quota"], want)
	}
	if recs[1]["quota_cores"] != "unlimited" || recs[1]["pct_of_quota"] != "-" {
		t.Errorf("top-cpu: %s has no quota: %v", holder, recs[1])
	}
}

// restart-loop reports a container that keeps dying with code 3.
func TestRestartLoop(t *testing.T) {
	t.Parallel()
	testRestartLoop(t, testengine.Default)
}

func testRestartLoop(t *testing.T, g *testengine.Target) {
	label := "ctrsh.test.case=" + uniqueName("restart")
	name := uniqueName("restart")
	g.Run(t, "--name", name, "--label", label, "--restart", "always", testengine.BusyboxImage, "sh", "-c", "echo dying; exit 3")
	quiet := uniqueName("quiet")
	g.Run(t, "--name", quiet, "--label", label, testengine.BusyboxImage, "sleep", "1000")
	waitFor(t, name+" restarted twice", 60*time.Second, func() (bool, error) {
		out, err := g.Docker(t, "inspect", "-f", "{{.RestartCount}}", name)
		n, _ := strconv.Atoi(out)
		return n >= 2, err
	})
	recs := mustRunOn(t, g, 0, "restart-loop", "--min", "2", "--label", label)
	if len(recs) != 1 || recs[0]["container"] != name {
		t.Fatalf("restart-loop: %v, want only %s", recs, name)
	}
	r := recs[0]
	if num(t, r, "restart_count") < 2 || num(t, r, "exit_code") != 3 || r["last_line"] != "dying" {
		t.Errorf("restart-loop: %v, want restart_count >= 2, exit_code 3, last_line \"dying\"", r)
	}
	for _, l := range strings.Split(str(r["last_lines"]), "\n") {
		if l != "dying" {
			t.Errorf("restart-loop: last_lines %q: want only \"dying\"", r["last_lines"])
		}
	}
}

// env-audit names the secret-looking variables and never prints their values.
func TestEnvAudit(t *testing.T) {
	t.Parallel()
	testEnvAudit(t, testengine.Default)
}

func testEnvAudit(t *testing.T, g *testengine.Target) {
	name := uniqueName("env")
	g.Run(t, "--name", name, "-e", "DB_PASSWORD=hunter2hunter2", "-e", "API_TOKEN=s3cr3tt0ken", "-e", "HOME_DIR=/x",
		testengine.BusyboxImage, "sleep", "1000")
	r := ctrshOn(t, g, "env-audit", name, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, secret := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the value %q leaked: %s%s", secret, r.stdout, r.stderr)
		}
	}
	var names []string
	for _, rec := range records(t, r.stdout) {
		if rec["container"] != name {
			t.Errorf("record of another container: %v", rec)
		}
		names = append(names, str(rec["name"]))
		v := str(rec["value"])
		if !strings.Contains(v, "*") {
			t.Errorf("%s: value %q is not masked", rec["name"], v)
		}
		// Not even a part of it: two characters of a short secret help guess it.
		for _, secret := range []string{"hunter2hunter2", "s3cr3tt0ken"} {
			for i := 0; i+2 <= len(secret); i++ {
				if strings.Contains(v, secret[i:i+2]) {
					t.Errorf("%s: value %q shows %q of the secret", rec["name"], v, secret[i:i+2])
				}
			}
		}
	}
	sort.Strings(names)
	if want := []string{"API_TOKEN", "DB_PASSWORD"}; !slices.Equal(names, want) {
		t.Errorf("reported %v, want %v", names, want)
	}
}

// log-errors returns exactly the matching lines, from both streams.
func TestLogErrors(t *testing.T) {
	t.Parallel()
	testLogErrors(t, testengine.Default)
}

func testLogErrors(t *testing.T, g *testengine.Target) {
	name := uniqueName("logs")
	g.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c",
		`echo starting; echo "error: disk full"; echo all good >&2; echo "FATAL boom" >&2; echo "an Exception here"; `+
			`echo "terrorism is not an error-free word"; echo fine; echo done-marker; sleep 1000`)
	waitLogsOn(t, g, name, "done-marker")
	got := func(args ...string) []string {
		var out []string
		for _, r := range mustRunOn(t, g, 0, append([]string{"log-errors"}, args...)...) {
			if r["container"] != name || r["time"] == nil {
				t.Errorf("record %v", r)
			}
			out = append(out, str(r["stream"])+" "+str(r["line"]))
		}
		sort.Strings(out)
		return out
	}
	want := []string{"stderr FATAL boom", "stdout an Exception here", "stdout error: disk full", "stdout terrorism is not an error-free word"}
	if g := got("--container", name); !slices.Equal(g, want) {
		t.Errorf("default pattern: %q, want %q", g, want)
	}
	want = []string{"stderr all good", "stdout fine"}
	if g := got("--container", name, "--pattern", "^(fine|all good)$"); !slices.Equal(g, want) {
		t.Errorf("--pattern: %q, want %q", g, want)
	}
	if g := got("--container", name, "--since", "0s"); len(g) != 0 {
		t.Errorf("--since 0s: %q, want nothing", g)
	}
}

// procState is the state letter of /proc/PID/stat.
func procState(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+3 > len(b) {
		return "", fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	return string(b[i+2]), nil
}

// zombies: a child that the exec'd sleep never reaps is reported with its parent.
func TestZombies(t *testing.T) {
	t.Parallel()
	testZombies(t, testengine.Default)
}

func testZombies(t *testing.T, g *testengine.Target) {
	name := uniqueName("zombie")
	g.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "sleep 0.1 & exec sleep 1000")
	clean := uniqueName("nozombie")
	g.Run(t, "--name", clean, testengine.BusyboxImage, "sleep", "1000")
	parent := containerPIDOn(t, g, name)
	var zombie int
	waitFor(t, "a zombie in "+name, 30*time.Second, func() (bool, error) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", parent, parent))
		if err != nil {
			return false, err
		}
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			if st, err := procState(pid); err == nil && st == "Z" {
				zombie = pid
				return true, nil
			}
		}
		return false, nil
	})
	recs := mustRunOn(t, g, 0, "zombies", name)
	if len(recs) != 1 {
		t.Fatalf("zombies: %v, want one", recs)
	}
	r := recs[0]
	if num(t, r, "pid") != float64(zombie) || num(t, r, "ppid") != float64(parent) || num(t, r, "ppid_inside") != 1 ||
		r["comm"] != "sleep" || r["parent_cmd"] != "sleep 1000" || r["container"] != name {
		t.Errorf("zombies: %v, want pid %d, ppid %d (1 inside), comm sleep, parent_cmd \"sleep 1000\"", r, zombie, parent)
	}
	if recs := mustRunOn(t, g, 0, "zombies", clean); len(recs) != 0 {
		t.Errorf("zombies in a container without any: %v", recs)
	}
}

// diag-bundle writes every file, each readable, none an error.
func TestDiagBundle(t *testing.T) {
	t.Parallel()
	testDiagBundle(t, testengine.Default)
}

func testDiagBundle(t *testing.T, g *testengine.Target) {
	name := uniqueName("diag")
	id := g.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "echo hello-diag; echo oops >&2; sleep 1000")
	waitLogsOn(t, g, name, "oops")
	dir := filepath.Join(t.TempDir(), "bundle")
	recs := mustRunOn(t, g, 0, "diag-bundle", name, dir)
	if len(recs) != 1 || recs[0]["dir"] != dir || recs[0]["container"] != name {
		t.Errorf("diag-bundle: %v", recs)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if want := []string{"cgroup.json", "inspect.json", "logs.txt", "ns.json", "stats.json", "top.json"}; !slices.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	read := func(file string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	var doc, stats, nsIDs, cg map[string]any
	var top []map[string]any
	read("inspect.json", &doc)
	read("stats.json", &stats)
	read("top.json", &top)
	read("ns.json", &nsIDs)
	read("cgroup.json", &cg)
	if doc["Id"] != id {
		t.Errorf("inspect.json: Id %v, want %s", doc["Id"], id)
	}
	if stats["memory"] == nil || stats["cpu"] == nil || stats["pids"] == nil {
		t.Errorf("stats.json: %v", stats)
	}
	pid := containerPIDOn(t, g, name)
	if len(top) != 1 || top[0]["pid"] != float64(pid) {
		t.Errorf("top.json: %v, want pid %d", top, pid)
	}
	for _, kind := range []string{"mnt", "net", "pid"} {
		if nsIDs[kind] != nsInode(t, pid, kind) {
			t.Errorf("ns.json: %s = %v, /proc says %v", kind, nsIDs[kind], nsInode(t, pid, kind))
		}
	}
	if cg["path"] == nil || cg["memory"] == nil || cg["procs"] == nil {
		t.Errorf("cgroup.json: %v", cg)
	}
	logs, err := os.ReadFile(filepath.Join(dir, "logs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\S+Z stdout hello-diag$`).Match(logs) || !regexp.MustCompile(`(?m)^\S+Z stderr oops$`).Match(logs) {
		t.Errorf("logs.txt: %q", logs)
	}
}

// health exits 3 naming OOM-killed containers (one whose init was killed,
// one where a kill left it running), and 0 once they are gone.
func TestHealth(t *testing.T) {
	t.Parallel()
	testHealth(t, testengine.Default)
}

func testHealth(t *testing.T, g *testengine.Target) {
	label := "ctrsh.test.case=" + uniqueName("health")
	dead, survivor, fine := uniqueName("oom-dead"), uniqueName("oom-alive"), uniqueName("fine")
	g.Run(t, "--name", dead, "--label", label, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage,
		"sh", "-c", "head -c 200000000 /dev/zero | tail")
	g.Run(t, "--name", survivor, "--label", label, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage,
		"sh", "-c", "(echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); echo after-oom; sleep 100000")
	g.Run(t, "--name", fine, "--label", label, testengine.BusyboxImage, "sleep", "1000")
	waitFor(t, dead+" to die", 30*time.Second, func() (bool, error) {
		return inspectStateOn(t, g, dead)["Status"] == "exited", nil
	})
	// Podman (4.3, runc, cgroup v1) does not say OOMKilled of a container
	// whose init was killed (exit 137, OOMKilled false), and its cgroup is
	// gone: nothing tells it. The kill that left a container running is
	// counted in its cgroup on both engines.
	oomDead := []string{dead}
	if g == testengine.Podman {
		oomDead = nil
	}
	if st := inspectStateOn(t, g, dead); st["OOMKilled"] != true && oomDead != nil {
		t.Fatalf("%s: the engine does not say OOMKilled: %v", dead, st)
	}
	waitLogsOn(t, g, survivor, "after-oom")

	r := ctrshOn(t, g, "health", "--label", label, "--json")
	if r.code != 3 {
		t.Fatalf("health: exit %d, want 3\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, name := range append(oomDead, survivor) {
		if !regexp.MustCompile(regexp.QuoteMeta(name) + `: OOM-killed`).MatchString(r.stderr) {
			t.Errorf("health: stderr %q does not name %s as OOM-killed", r.stderr, name)
		}
		if recs := byContainer(t, records(t, r.stdout), name); len(recs) != 1 || !strings.Contains(str(recs[0]["problem"]), "OOM-killed") {
			t.Errorf("health: records for %s: %v", name, recs)
		}
	}
	if strings.Contains(r.stdout+r.stderr, fine) {
		t.Errorf("health names the healthy %s: %s %s", fine, r.stdout, r.stderr)
	}

	g.MustDocker(t, "rm", "-f", dead, survivor)
	recs := mustRunOn(t, g, 0, "health", "--label", label)
	if len(recs) != 1 || recs[0]["status"] != "ok" || recs[0]["containers"] != float64(1) {
		t.Errorf("health after removing them: %v, want ok for 1 container", recs)
	}
}

// trace-exec: the execs of one container for --for, each with argv and
// PIDs, none of another container's.
func TestTraceExec(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	t.Parallel()
	name := uniqueName("trace-exec")
	id := testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "while true; do /bin/ls / >/dev/null; sleep 0.2; done")
	testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "while true; do /bin/ls / >/dev/null; sleep 0.2; done")
	start := time.Now()
	recs := mustRun(t, 0, "trace-exec", name, "--for", "2s")
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("--for 2s took %v", took)
	}
	ls := 0
	for _, r := range recs {
		if r["container"] != name {
			t.Errorf("record of another container: %v", r)
			continue
		}
		argv, _ := r["argv"].([]any)
		if len(argv) == 2 && argv[0] == "/bin/ls" && argv[1] == "/" {
			ls++
			if pid, inside := num(t, r, "pid"), num(t, r, "pid_inside"); inside <= 1 || inside == pid {
				t.Errorf("pid %v, pid_inside %v", pid, inside)
			}
			if num(t, r, "ppid") != float64(containerPID(t, id)) {
				t.Errorf("ppid %v, want the container's shell %d", r["ppid"], containerPID(t, id))
			}
		}
	}
	if ls < 2 {
		t.Errorf("%d execs of /bin/ls in 2 s, want several: %v", ls, recs)
	}
}

// trace-connect: a wget to busybox httpd on the container's loopback, with
// both ends and the outcome.
func TestTraceConnect(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	t.Parallel()
	name := uniqueName("trace-connect")
	testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c",
		"httpd -f -p 127.0.0.1:8080 -h /etc & while true; do wget -q -O /dev/null http://127.0.0.1:8080/hostname; sleep 0.2; done")
	recs := mustRun(t, 0, "trace-connect", name, "--for", "2s")
	ok := 0
	for _, r := range recs {
		if r["container"] != name {
			t.Errorf("record of another container: %v", r)
			continue
		}
		if r["dst"] == "127.0.0.1" && num(t, r, "dst_port") == 8080 && r["src"] == "127.0.0.1" && r["result"] == "established" && r["comm"] == "wget" {
			if p := num(t, r, "src_port"); p <= 1024 || p == 8080 {
				t.Errorf("source port %v", p)
			}
			ok++
		}
	}
	if ok < 2 {
		t.Errorf("%d established connections to 127.0.0.1:8080 in 2 s, want several: %v", ok, recs)
	}
}

// oom-victims: running in the background, it names the victim of the
// deterministic OOM of a non-PID-1 process: pid, comm, container, memcg.
func TestOOMVictims(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	t.Parallel()
	name := uniqueName("oom-victims")
	id := testengine.Run(t, "--name", name, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage, "sh", "-c",
		"while [ ! -f /tmp/go ]; do sleep 0.1; done; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); exec sleep 100000")
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctrshBinary(t), "run", "oom-victims", name, "--for", "90s", "--json")
	cmd.Env = env(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr traceOutput
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "oom-victims to start watching", 30*time.Second, func() (bool, error) {
		return strings.Contains(stderr.String(), "watching"), nil
	})
	testengine.MustDocker(t, "exec", name, "touch", "/tmp/go")
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var rec map[string]any
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("oom-victims ended without a record; stderr %q", stderr.String())
		}
		recs := records(t, line+"\n")
		rec = recs[0]
	case <-time.After(60 * time.Second):
		t.Fatalf("no OOM victim reported in 60 s; stderr %q", stderr.String())
	}
	if rec["container"] != name || rec["comm"] != "tail" || num(t, rec, "oom_score_adj") != 1000 {
		t.Errorf("victim record %v, want container %s, comm tail, oom_score_adj 1000", rec, name)
	}
	if pid, inside := num(t, rec, "pid"), num(t, rec, "pid_inside"); pid <= 0 || inside <= 1 || pid == float64(containerPID(t, id)) {
		t.Errorf("victim pid %v inside %v: want a process other than the container's init", pid, inside)
	}
	if !strings.HasSuffix(str(rec["memcg"]), id) {
		t.Errorf("memcg %q, want the container's cgroup", rec["memcg"])
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code, _ := exitCode(cmd.Wait()); code != 143 {
		t.Errorf("SIGTERM: exit %d, want 143", code)
	}
}

// traceOutput is a bytes.Buffer written by one goroutine and read by
// another.
type traceOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *traceOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *traceOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startJournal runs `ctrsh journal record` on a journal of the test's own
// until the test ends, and returns the journal's path.
func startJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	cmd := exec.Command(ctrshBinary(t), "journal", "record", "--db", path, "--sample", "1s")
	cmd.Env = env(t)
	var stderr bytes.Buffer
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return stderr.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("ctrsh journal record said:\n%s", stderr.String())
			mu.Unlock()
		}
	})
	waitFor(t, "the journal recording", 30*time.Second, func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(stderr.String(), "recording"), nil
	})
	return path
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// timeline: a container restarting in a loop shows each death with its
// exit code, the restart count and the log line before it; an OOM kill of
// a process that is not the container's init (the container keeps
// running, the engine says OOMKilled=false) shows with the victim's pid
// and comm from the kernel's log and the cgroup's counter.
func TestTimeline(t *testing.T) {
	testengine.NeedRoot(t, "ctrsh journal record reads cgroups and /dev/kmsg")
	path := startJournal(t)
	loop := uniqueName("timeline-loop")
	testengine.Run(t, "--name", loop, "--restart", "always", testengine.BusyboxImage, "sh", "-c", "echo dying; exit 3")
	oom := uniqueName("timeline-oom")
	oomID := testengine.Run(t, "--name", oom, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage, "sh", "-c",
		"sleep 1; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100000")

	var recs []map[string]any
	waitFor(t, loop+" dead three times in the timeline", 90*time.Second, func() (bool, error) {
		recs = mustRun(t, 0, "timeline", loop, "--since", "10m", "--journal", path)
		n := 0
		for _, r := range recs {
			if r["event"] == "died" {
				n++
			}
		}
		return n >= 3, nil
	})
	var dies, restarts, lastCount int
	for i, r := range recs {
		if r["container"] != loop && r["container"] != "" {
			t.Errorf("row of another container: %v", r)
		}
		with, _ := r["with"].(map[string]any)
		switch r["event"] {
		case "died":
			dies++
			if with["exit_code"] != float64(3) || !strings.Contains(str(r["what"]), "exit code 3") {
				t.Errorf("death %d: %v, want exit code 3", dies, r)
			}
			n, ok := with["restart_count"].(float64)
			if !ok || int(n) <= lastCount {
				t.Errorf("death %d: restart count %v, want one above %d", dies, with["restart_count"], lastCount)
			}
			lastCount = int(n)
			if i == 0 || recs[i-1]["event"] != "log" || recs[i-1]["what"] != "dying" {
				t.Errorf("death %d: the row before it is %v, want the log line \"dying\"", dies, recs[max(i-1, 0)])
			}
		case "restarted":
			restarts++
		}
	}
	if restarts < 2 {
		t.Errorf("%d restarts in the timeline, want at least 2: %v", restarts, recs)
	}

	waitFor(t, "the OOM kill of "+oom+" in the timeline", 60*time.Second, func() (bool, error) {
		recs = mustRun(t, 0, "timeline", oom, "--since", "10m", "--journal", path)
		for _, r := range recs {
			if with, _ := r["with"].(map[string]any); r["event"] == "oom_kill" && with["source"] == "kmsg+cgroup" {
				return true, nil
			}
		}
		return false, nil
	})
	if st := inspectState(t, oom); st["Running"] != true || st["OOMKilled"] != false {
		t.Errorf("%s: Running %v OOMKilled %v, want true false", oom, st["Running"], st["OOMKilled"])
	}
	dmesg, err := exec.Command("dmesg").Output()
	if err != nil {
		t.Fatal(err)
	}
	marker := "task_memcg=/docker/" + oomID + ",task=tail,pid="
	victim := ""
	for _, line := range strings.Split(string(dmesg), "\n") {
		if i := strings.Index(line, marker); i >= 0 {
			victim = strings.Split(line[i+len(marker):], ",")[0]
		}
	}
	// The shell's pipeline may lose head too (a second kill): the row of
	// the victim the kernel named first, tail, is the one to check.
	found := false
	for _, r := range recs {
		with, _ := r["with"].(map[string]any)
		if r["event"] != "oom_kill" || with["comm"] != "tail" {
			continue
		}
		found = true
		if fmt.Sprint(with["pid"]) != victim || r["container"] != oom || with["oom_kills"] == nil || with["oom_kills"].(float64) < 1 {
			t.Errorf("oom_kill row %v, want pid %s, comm tail, an oom_kills count, in %s", r, victim, oom)
		}
		if !strings.Contains(str(r["what"]), "process "+victim+" (tail) killed; oom_kills ") {
			t.Errorf("oom_kill row says %q", r["what"])
		}
	}
	if !found {
		t.Errorf("no oom_kill row of tail: %v", recs)
	}
	// The table form names the same facts.
	r := ctrsh(t, "timeline", oom, "--since", "10m", "--journal", path)
	if r.code != 0 || !strings.Contains(r.stdout, "oom_kill") || !strings.Contains(r.stdout, "(tail) killed") {
		t.Errorf("timeline as a table: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// timeline from a journal written here: health changes, one OOM kill seen
// by the kernel's log, the counter and (three times) the engine shown as
// one row, the engine's restart, a death and the restart after it, in
// order; rows of other containers and of other times left out.
func TestTimelineFromAJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := journal.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("ab", 32)
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	at := func(sec float64) time.Time { return base.Add(time.Duration(sec * float64(time.Second))) }
	ev := func(sec float64, action string) *journal.Event {
		return &journal.Event{Time: at(sec), Source: journal.SourceEngine, Type: "container", Action: action, ActorID: id,
			ContainerID: id, ContainerName: "shop", Image: "shop:1", Attributes: map[string]string{"name": "shop"}}
	}
	kills, pid, code, restarts, oomKilled := uint64(1), 4242, 137, 1, true
	die := ev(40, "die")
	die.ExitCode, die.RestartCount, die.OOMKilled = &code, &restarts, &oomKilled
	other := ev(5, "start")
	other.ContainerID, other.ActorID, other.ContainerName = strings.Repeat("cd", 32), strings.Repeat("cd", 32), "other"
	rows := []*journal.Event{
		ev(-7200, "create"), // before --since
		ev(0, "create"), ev(1, "start"), ev(1.5, "attach"), other, ev(10, "health_status: unhealthy"),
		ev(30, "oom"), ev(30.2, "oom"), ev(30.4, "oom"),
		{Time: at(30.1), Source: journal.SourceCgroup, Type: "container", Action: journal.ActionOOMKill, ContainerID: id, ContainerName: "shop", OOMKills: &kills},
		journal.OOMKill{Time: at(30), Source: journal.SourceKmsg, ContainerID: id, PID: pid, Comm: "java"}.Event(),
		{Time: at(35), Source: journal.SourceCtrsh, Type: "engine", Action: journal.ActionEngineDown, Attributes: map[string]string{"error": "EOF"}},
		{Time: at(37), Source: journal.SourceCtrsh, Type: "engine", Action: journal.ActionEngineUp},
		die, ev(41, "start"),
	}
	if err := s.Append(context.Background(), rows, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	recs := mustRun(t, 0, "timeline", "shop", "--since", "1h", "--journal", path)
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s|%s|%s", r["container"], r["event"], r["what"]))
	}
	want := []string{
		"shop|created|image shop:1",
		"shop|started|",
		"shop|health|unhealthy",
		"shop|oom_kill|process 4242 (java) killed; oom_kills 1",
		"|engine down|EOF",
		"|engine up|after 2.0 s",
		"shop|died|exit code 137, OOM-killed, restart count 1",
		"shop|restarted|restart count 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if with, _ := recs[6]["with"].(map[string]any); with["exit_code"] != float64(137) || with["restart_count"] != float64(1) || with["oom_killed"] != true {
		t.Errorf("died row's figures: %v", recs[6]["with"])
	}
	if r := ctrsh(t, "timeline", "nobody", "--journal", path); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "nothing about nobody") {
		t.Errorf("timeline of an unknown container: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := ctrsh(t, "timeline", "shop", "--journal", filepath.Join(t.TempDir(), "none.db")); r.code != 1 || !strings.Contains(r.stderr, "no journal") {
		t.Errorf("timeline without a journal: exit %d, %q", r.code, r.stderr)
	}
}
