package docker_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// startSleeper runs a busybox container and returns its name, id and the
// host PID of its init once that runs sleep.
func startSleeper(t *testing.T) (name, id string, pid int) {
	t.Helper()
	name = fmt.Sprintf("pin-%d", time.Now().UnixNano())
	id = testengine.Run(t, "--name", name, testengine.BusyboxImage, "sleep", "1000")
	for i := 0; i < 100; i++ {
		pid, _ = strconv.Atoi(testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id))
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(comm) == "sleep\n" {
			return name, id, pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("container %s: init never ran sleep", name)
	return
}

// impostor makes PID pid, in the host tree root, a copy of the tree's
// process 2543: a process of another container (the tree's web).
func impostor(t *testing.T, root string, pid int) {
	t.Helper()
	dst := filepath.Join(root, "proc", strconv.Itoa(pid))
	os.RemoveAll(dst)
	if out, err := exec.Command("cp", "-a", filepath.Join(root, "proc", "2543"), dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
}

// The engine reports a PID that, on this host, is another container's
// process (a remote engine, a nested or rootless one, a reused PID): c:enter,
// c:run, c:ns, c:cgroup, ns.enter and ns.run by name, and the kill of an
// exec that timed out all refuse to act on it.
func TestEngineReportedPIDMustBeContainers(t *testing.T) {
	testengine.NeedRoot(t, "pinning processes with pidfd_open")
	name, id, pid := startSleeper(t)
	root := trees.Unpack(t, "cgroupv1-cgroupfs")
	impostor(t, root, pid)
	if trees.ID("docker-web") == id {
		t.Fatal("the fixture's container id is the test container's")
	}

	L := luatest.NewState(t)
	luax.SetHostRoot(L, root)
	L.SetGlobal("NAME", lua.LString(name))
	L.SetGlobal("WANT", lua.LString(fmt.Sprintf("container %q: process %d is not its process (remote or nested engine?)", name, pid)))
	if err := L.DoString(`
		local c = assert(docker.container(NAME))
		local calls = {
			["c:enter"] = function() return c:enter{"touch", "/tmp/entered"} end,
			["c:run"] = function() return c:run[[ io.open("/tmp/ran", "w"):close() return 1 ]] end,
			["c:ns"] = function() return c:ns() end,
			["c:cgroup"] = function() return c:cgroup() end,
			["ns.enter"] = function() return ns.enter(NAME, {"touch", "/tmp/nsentered"}) end,
			["ns.run"] = function() return ns.run(NAME, [[ io.open("/tmp/nsran", "w"):close() return 1 ]]) end,
		}
		for what, fn in pairs(calls) do
			local v, err = fn()
			assert.eq(v, nil, what)
			assert.eq(err, WANT, what)
		end
	`); err != nil {
		t.Fatal(err)
	}
	if out, _ := testengine.Docker(t, "exec", id, "ls", "/tmp"); strings.TrimSpace(out) != "" {
		t.Errorf("a refused entry left traces in the container's /tmp: %q", out)
	}

	// The same PID whose cgroup names the container: it is its process.
	cg := filepath.Join(root, "proc", strconv.Itoa(pid), "cgroup")
	b, _ := os.ReadFile(cg)
	if err := os.WriteFile(cg, []byte(strings.ReplaceAll(string(b), trees.ID("docker-web"), id)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`
		local c = assert(docker.container(NAME))
		local m = assert(c:ns())
		assert.eq(m.net, 4026532305) -- the tree's, read below the host root
	`); err != nil {
		t.Fatal(err)
	}

	// c:exec that times out kills its process by the PID the engine
	// reports: not when that PID is another container's.
	impostor(t, root, pid)
	done := make(chan error, 1)
	L.SetGlobal("WANT", lua.LString("is not its process (remote or nested engine?)"))
	go func() {
		done <- L.DoString(`
			local c = assert(docker.container(NAME))
			local r, err = c:exec({"sleep", "4242"}, {timeout = "5s"})
			assert.eq(r, nil)
			EXEC_ERR = err`)
	}()
	var sleeper int
	for deadline := time.Now().Add(5 * time.Second); sleeper == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sleeper = findInPIDNS(pid, "sleep\x004242\x00")
	}
	if sleeper == 0 {
		t.Fatal("the exec's sleep 4242 never started")
	}
	t.Cleanup(func() { syscall.Kill(sleeper, syscall.SIGKILL) })
	impostor(t, root, sleeper)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msg := L.GetGlobal("EXEC_ERR").String()
	t.Logf("exec: %s", msg)
	if !strings.Contains(msg, fmt.Sprintf("process %d is not its process (remote or nested engine?)", sleeper)) || !strings.Contains(msg, "timed out") {
		t.Errorf("exec that timed out: %q", msg)
	}
	if err := syscall.Kill(sleeper, 0); err != nil {
		t.Errorf("the exec's process %d, another container's by the host's /proc, was signalled: %v", sleeper, err)
	}
}

// findInPIDNS is the host PID of a process in the PID namespace of process
// pid whose command line is cmdline, or 0.
func findInPIDNS(pid int, cmdline string) int {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return 0
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		n, _ := os.Readlink("/proc/" + e.Name() + "/ns/pid")
		if string(b) == cmdline && n == ns {
			return p
		}
	}
	return 0
}
