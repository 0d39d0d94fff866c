package ns_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
)

// As runc's tests do, the test binary is its own helper: inside a target,
// ns.run's child runs the chunk here instead of the tests.
func TestMain(m *testing.M) {
	if ns.RunChild(childState) {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childState is the state a chunk runs in inside the target: Lua's
// standard libraries and the ns functions.
func childState() *lua.LState {
	L := lua.NewState()
	luax.SetEnv(L, &luax.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin})
	L.SetGlobal("ns", luax.NewModule(L, "ns", "namespaces", ns.EnterFuncs))
	return L
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("entering namespaces needs root, and CI runs as root")
		}
		t.Skip("entering namespaces needs root")
	}
}

// startTarget starts a process in new pid, uts, ipc, net and mount
// namespaces (its own /proc, hostname ctrsh-test) and returns its PID.
func startTarget(t *testing.T) int {
	t.Helper()
	needRoot(t)
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
	luax.SetEnv(L, &luax.Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Audit: func(action, subject string, f map[string]any) {
		audit = append(audit, fmt.Sprintf("%s %s %v", action, subject, f["phase"]))
	}})
	L.SetGlobal("ns", luax.NewModule(L, "ns", "namespaces", ns.EnterFuncs))
	L.SetGlobal("PID", lua.LNumber(pid))
	if err := L.DoString(src); err != nil {
		t.Fatalf("%v\noutput: %s", err, out.String())
	}
	return out.String() + strings.Join(audit, "\n")
}

func TestEnterLua(t *testing.T) {
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
