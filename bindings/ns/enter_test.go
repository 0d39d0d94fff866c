package ns_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// As runc's tests do, the test binary is its own helper: inside a target,
// ns.run's child runs the chunk here instead of the tests.
func TestMain(m *testing.M) {
	if ns.RunChild(childState) {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childState is the state a chunk runs in inside the target: ctrsh's own,
// as the binary's main builds it.
var childState = bindings.NewChild

// startTarget starts a process in new pid, uts, ipc, net and mount
// namespaces (its own /proc, hostname ctrsh-test) and returns its PID.
func startTarget(t *testing.T) int {
	t.Helper()
	testengine.NeedRoot(t, "entering namespaces")
	cmd := exec.Command("unshare", "--mount-proc", "sh", "-c", "hostname ctrsh-test; echo ready; exec sleep 1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("target: %q %v", line, err)
	}
	for i := 0; i < 100; i++ {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)); string(b) == "sleep\n" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd.Process.Pid
}

// runLua runs src in a state with ns and PID set; a Lua error fails the test.
func runLua(t *testing.T, pid int, src string) string {
	t.Helper()
	var out bytes.Buffer
	L := lua.NewState()
	defer L.Close()
	var audit []string
	luax.SetEnv(L, &luax.Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Audit: func(action, subject string, f map[string]any) error {
		audit = append(audit, fmt.Sprintf("%s %s %v", action, subject, f["phase"]))
		return nil
	}})
	L.SetGlobal("ns", luax.NewModule(L, "ns", "namespaces", ns.New(nil).EnterFuncs()))
	L.SetGlobal("PID", lua.LNumber(pid))
	if err := L.DoString(src); err != nil {
		t.Fatalf("%v\noutput: %s", err, out.String())
	}
	return out.String() + strings.Join(audit, "\n")
}

func TestEnterLua(t *testing.T) {
	// Without Targets (runLua's ns), container names are refused with a reason.
	pid := startTarget(t)
	out := runLua(t, pid, `
		local r = assert(ns.enter(PID, "hostname"))
		assert(r.code == 0 and r.stdout == "ctrsh-test\n" and r.stderr == "", r.stdout)
		r = assert(ns.enter(PID, {"sh", "-c", "echo $GREETING; echo err >&2; cat; exit 3"}, {env = {GREETING = "hi"}, stdin = "in\n"}))
		assert(r.code == 3 and r.stdout == "hi\nin\n" and r.stderr == "err\n", r.stdout .. r.stderr)
		r = assert(ns.enter(PID, {"sh", "-c", "kill -TERM $$"}))
		assert(r.code == 143, r.code)
		r = assert(ns.enter(tostring(PID), "hostname", {ns = {"uts"}}))
		assert(r.stdout == "ctrsh-test\n")
		r = assert(ns.enter(PID, "pwd", {workdir = "/tmp"}))
		assert(r.stdout == "/tmp\n", r.stdout)

		local ok, err = ns.enter(PID, "no-such-tool-ctrsh")
		assert(ok == nil and err:find('"no-such-tool-ctrsh": not found in the container', 1, true), err)
		ok, err = ns.enter(1, "true")
		assert(ok == nil and err:find("refused"), err)
		ok, err = ns.enter("web", "true")
		assert(ok == nil and err == 'container "web": container names need the docker module', err)

		local ok, e = pcall(ns.enter, PID, 42)
		assert(not ok and e:find("bad argument #2 to .*%(string or array expected, got number%)"), e)
		ok, e = pcall(ns.enter, PID, "true", {bogus = 1})
		assert(not ok and e:find('unknown option "bogus"'), e)
		ok, e = pcall(ns.enter, PID, "true", {env = {A = false}})
		assert(not ok and e:find('option "env": key "A": string or number expected, got boolean', 1, true), e)
		ok, e = pcall(ns.enter, {}, "true")
		assert(not ok and e:find("bad argument #1 to .*number or string expected, got table"), e)
		-- not captured and no terminal: output goes to the state's stdout
		r = assert(ns.enter(PID, "echo streamed", {capture = false}))
		assert(r.code == 0 and r.stdout == nil)
	`)
	if !strings.Contains(out, "streamed\n") {
		t.Errorf("capture=false did not write to the state's stdout: %q", out)
	}
	if !strings.Contains(out, fmt.Sprintf("enter process %d start", pid)) || !strings.Contains(out, fmt.Sprintf("enter process %d end", pid)) {
		t.Errorf("no audit records: %q", out)
	}
}

func TestRunLua(t *testing.T) {
	pid := startTarget(t)
	out := runLua(t, pid, `
		-- the chunk runs in the target's uts and pid namespaces, with their /proc
		local name = assert(ns.run(PID, [[ return io.open("/proc/sys/kernel/hostname"):read("*a") ]]))
		assert(name == "ctrsh-test\n", name)
		local comm = assert(ns.run(PID, [[ return io.open("/proc/1/comm"):read("*l") ]]))
		assert(comm == "sleep", comm)

		-- values both ways, tables intact
		local a, b, c, d = ns.run(PID, [[
			local t, s = ...
			t.seen = true
			return t, s .. "!", nil, {1, 2, nil, 4, [10] = "ten", ["1"] = "string one", nested = {deep = {1.5, -0}}}
		]], {x = 1, list = {"a", "b"}, [3] = 3}, "\0bin\255")
		assert(a.x == 1 and a.list[2] == "b" and a[3] == 3 and a.seen == true)
		assert(b == "\0bin\255!", b)
		assert(c == nil)
		assert(d[1] == 1 and d[2] == 2 and d[3] == nil and d[4] == 4 and d[10] == "ten" and d["1"] == "string one")
		assert(d.nested.deep[1] == 1.5)

		-- print inside goes to our stdout
		ns.run(PID, [[ print("printed inside") ]])

		local ok, err = ns.run(PID, [[ error("boom") ]])
		assert(ok == nil and err:find("boom"), err)
		ok, err = ns.run(PID, [[ return ) ]])
		assert(ok == nil and err:find("%(run%)"), err)
		local pok, e = pcall(ns.run, PID)
		assert(not pok and e:find("bad argument #2 to .*string expected, got nil"), e)
	`)
	if !strings.Contains(out, "printed inside\n") {
		t.Errorf("print inside did not reach the state's stdout: %q", out)
	}
}

// TestRunChildHasParentsMode: the chunk's state inside is built by
// bindings.New with its parent's mode — --safe there when --safe here —
// and loads no module file of the target, whose files they would be.
func TestRunChildHasParentsMode(t *testing.T) {
	pid := startTarget(t)
	L := lua.NewState()
	defer L.Close()
	const chunk = `local ok, err = pcall(function() return io.open("/etc/hostname") end) return ok, tostring(err)`
	vals, err := ns.RunChunk(context.Background(), L, pid, chunk, nil, ns.RunOptions{Safe: true})
	if err != nil || len(vals) != 2 || vals[0] != lua.LFalse || !strings.Contains(vals[1].String(), "io.open is not available with --safe") {
		t.Errorf("a --safe parent's chunk: %v, %v", vals, err)
	}
	vals, err = ns.RunChunk(context.Background(), L, pid, chunk, nil, ns.RunOptions{})
	if err != nil || len(vals) != 2 || vals[0] != lua.LTrue {
		t.Errorf("a parent's chunk without --safe: %v, %v", vals, err)
	}
	// The target's / (the chunk's working directory) holds a module.
	dir := fmt.Sprintf("/proc/%d/root/", pid)
	if err := os.WriteFile(dir+"ctrsh-run-child-m.lua", []byte(`return "loaded from the target"`), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir + "ctrsh-run-child-m.lua")
	vals, err = ns.RunChunk(context.Background(), L, pid, `return pcall(require, "ctrsh-run-child-m")`, nil, ns.RunOptions{})
	if err != nil || len(vals) != 2 || vals[0] != lua.LFalse || !strings.Contains(vals[1].String(), "not searched") {
		t.Errorf("require inside: %v, %v", vals, err)
	}
}

// docker runs the docker CLI against the private test engine.
func docker(t *testing.T, args ...string) (string, error) {
	t.Helper()
	host := os.Getenv("CTRSH_TEST_DOCKER_HOST")
	if host == "" {
		host = "unix:///run/ctrsh-test/docker.sock"
	}
	cmd := exec.Command("docker", append([]string{"--host", host}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// engineContainer starts a container on the test engine (skipping, or
// failing in CI, when there is none) and returns its id and init's PID.
func engineContainer(t *testing.T, args ...string) (string, int) {
	t.Helper()
	testengine.NeedRoot(t, "entering namespaces")
	// testengine takes the engine's shared lock, so that no other test
	// package restarts the engine under this test.
	id := testengine.Run(t, append([]string{"--hostname", "enter-test"}, args...)...)
	out, err := docker(t, "inspect", "--format", "{{.State.Pid}}", id)
	if err != nil {
		t.Fatal(err)
	}
	pid := 0
	fmt.Sscan(out, &pid)
	if pid <= 0 {
		t.Fatalf("container %s is not running", id)
	}
	return id, pid
}

func TestEngineBusybox(t *testing.T) {
	_, pid := engineContainer(t, "ctrsh-test/busybox", "sleep", "1000")
	ctx := context.Background()
	res, err := ns.Enter(ctx, pid, []string{"hostname"}, ns.EnterOptions{Capture: true, Namespaces: []string{"mnt", "uts", "ipc", "net", "pid"}})
	if err != nil || string(res.Stdout) != "enter-test\n" {
		t.Errorf("hostname: %v %+v", err, res)
	}
	res, err = ns.Enter(ctx, pid, []string{"ps"}, ns.EnterOptions{Capture: true})
	if err != nil || !strings.Contains(string(res.Stdout), " sleep 1000") {
		t.Errorf("ps: %v %q", err, res.Stdout)
	}
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		// busybox ps: PID USER COMMAND
		if f := strings.Fields(l); len(f) > 2 && f[0] == "1" && f[2] != "sleep" {
			t.Errorf("PID 1 inside is %q, want the container's init: %s", f[2], res.Stdout)
		}
	}
	res, err = ns.Enter(ctx, pid, []string{"ls", "/proc/self/fd"}, ns.EnterOptions{Capture: true})
	if err != nil || strings.Join(strings.Fields(string(res.Stdout)), " ") != "0 1 2 3" {
		t.Errorf("fds inside: %v %q", err, res.Stdout)
	}
	res, err = ns.Enter(ctx, pid, []string{"sh", "-c", "kill -TERM $$"}, ns.EnterOptions{Capture: true})
	if err != nil || res.Code != 143 {
		t.Errorf("SIGTERM: %v %+v", err, res)
	}
	if _, err = ns.Enter(ctx, pid, []string{"no-such-tool"}, ns.EnterOptions{Capture: true}); err == nil || !strings.Contains(err.Error(), "not found in the container") {
		t.Errorf("missing tool: %v", err)
	}
	res, err = ns.Enter(ctx, pid, []string{"sh", "-c", "cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup"}, ns.EnterOptions{Capture: true, JoinCgroup: true})
	if mine, init, _ := strings.Cut(string(res.Stdout), "---\n"); err != nil || mine != init {
		t.Errorf("join_cgroup: %v\n%s", err, res.Stdout)
	}
}

func TestEngineSealedChild(t *testing.T) {
	id, pid := engineContainer(t, "ctrsh-test/busybox", "sleep", "1000")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		L := lua.NewState()
		defer L.Close()
		_, err := ns.RunChunk(context.Background(), L, pid, `
			print(io.open("/proc/self/stat"):read("*a"):match("^%d+"))
			io.stdout:flush()
			os.execute("sleep 5")`, nil, ns.RunOptions{Stdout: pw, Stderr: os.Stderr})
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	inside := strings.TrimSpace(line)
	// root in the container, with the engine's capabilities
	if _, err := docker(t, "exec", id, "cat", "/proc/1/environ"); err != nil {
		t.Fatalf("control: root in the container cannot read its init's environ: %v", err)
	}
	if out, err := docker(t, "exec", id, "cat", "/proc/"+inside+"/environ"); err == nil {
		t.Errorf("root in the container read the entered process's environ: %q", out)
	}
	if _, err := docker(t, "exec", id, "sh", "-c", "echo x >> /proc/"+inside+"/exe"); err == nil {
		t.Errorf("root in the container opened the entered process's exe for writing")
	}
	if err := <-done; err != nil {
		t.Errorf("chunk: %v", err)
	}
}

func TestEngineDistroless(t *testing.T) {
	_, pid := engineContainer(t, "ctrsh-test/distroless")
	L := lua.NewState()
	defer L.Close()
	vals, err := ns.RunChunk(context.Background(), L, pid, `return io.open("/etc/hostname"):read("*a"), {list = {1, 2, nil, 4}}`, nil, ns.RunOptions{})
	if err != nil || len(vals) != 2 || vals[0].String() != "enter-test\n" {
		t.Fatalf("chunk in distroless: %v %v", err, vals)
	}
	if l, ok := vals[1].(*lua.LTable).RawGetString("list").(*lua.LTable); !ok || l.RawGetInt(4) != lua.LNumber(4) {
		t.Errorf("table did not arrive intact: %v", vals[1])
	}
}
