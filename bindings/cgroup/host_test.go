package cgroup_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

func TestHostSelf(t *testing.T) {
	mode, err := cgroup.DetectMode("/")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cgroup.ForPID("/", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	if mode == cgroup.ModeV2 {
		want = 2
	}
	if c.Version != want {
		t.Errorf("mode %s, version %d", mode, c.Version)
	}
	m, err := c.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if m.Usage == nil || *m.Usage == 0 {
		t.Errorf("usage of our own cgroup: %v", m.Usage)
	}
	procs, err := c.Procs()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range procs {
		found = found || p == os.Getpid()
	}
	if !found {
		t.Errorf("our pid %d is not in %s's procs %v", os.Getpid(), c.Path, procs)
	}
}

// memoryCgroup makes a v1 memory cgroup below ours with limit bytes
// (memory and memory+swap), removed at the end of the test.
func memoryCgroup(t *testing.T, limit int) *cgroup.Cgroup {
	t.Helper()
	testengine.NeedRoot(t, "this test")
	self, err := cgroup.ForPID("/", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.Version != 1 {
		t.Skip("needs the v1 memory controller (this host is v2; v2 is covered by fixture trees)")
	}
	// On a v1 host, CI must be able to make the cgroup: a skip there would
	// hide that the test never ran.
	parent, ok := self.Dir("memory")
	if !ok {
		skipOrFail(t, "no v1 memory controller")
	}
	name := fmt.Sprintf("ctrsh-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		skipOrFail(t, fmt.Sprintf("cannot make a memory cgroup: %v", err))
	}
	t.Cleanup(func() {
		// Kill what is left, then remove the cgroup.
		for i := 0; i < 50; i++ {
			b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if len(strings.TrimSpace(string(b))) == 0 {
				break
			}
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					if p, err := os.FindProcess(pid); err == nil {
						p.Kill()
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	for _, f := range []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(strconv.Itoa(limit)), 0); err != nil && f == "memory.limit_in_bytes" {
			t.Fatalf("%s: %v", f, err)
		}
	}
	c, err := cgroup.Open("/", filepath.Join(self.Path, name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startIn starts sh -c script in cgroup c: the shell waits for a line on
// stdin until it has been moved.
func startIn(t *testing.T, c *cgroup.Cgroup, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read go; "+script)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	dir, _ := c.Dir("memory")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "go\n")
	return cmd
}

func TestHostV1Memory(t *testing.T) {
	c := memoryCgroup(t, 64<<20)
	cmd := startIn(t, c, "head -c 8000000 /dev/zero | tail; sleep 100")
	var m *cgroup.Memory
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if m, err = c.Memory(); err != nil {
			t.Fatal(err)
		}
		if m.Usage != nil && *m.Usage > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m.Limit == nil || *m.Limit != 64<<20 || m.Unlimited {
		t.Errorf("limit %v unlimited %v", m.Limit, m.Unlimited)
	}
	if m.Usage == nil || *m.Usage == 0 || m.MaxUsage == nil || *m.MaxUsage < *m.Usage {
		t.Errorf("usage %v max usage %v", m.Usage, m.MaxUsage)
	}
	if m.OOMKills == nil || *m.OOMKills != 0 || m.Stat == nil || m.WorkingSet == nil {
		t.Errorf("memory %+v", m)
	}
	procs, err := c.Procs()
	if err != nil || len(procs) == 0 || procs[0] != cmd.Process.Pid {
		t.Errorf("procs %v, %v (want %d first)", procs, err, cmd.Process.Pid)
	}
	// The same cgroup through its process and through its absolute path.
	byPID, err := cgroup.ForPID("/", cmd.Process.Pid)
	if err != nil || byPID.Path != c.Path {
		t.Errorf("ForPID: %v, %v; want %s", byPID, err, c.Path)
	}
	dir, _ := c.Dir("memory")
	abs, err := cgroup.Open("/", dir)
	if err != nil || abs.Path != c.Path {
		t.Errorf("Open(%s): %v, %v", dir, abs, err)
	}
}

// An OOM kill in a v1 cgroup: the eventfd watch calls back with the new
// count, and the counter rose.
func TestHostV1WatchOOM(t *testing.T) {
	c := memoryCgroup(t, 32<<20)
	before, err := c.OOMKills()
	if err != nil || before == nil {
		t.Skipf("this kernel does not count OOM kills: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var events []cgroup.OOMEvent
	// The watch runs on this goroutine and registers before the shell,
	// after sleeping a second, runs out of memory.
	startIn(t, c, "sleep 1; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100")
	err = c.WatchOOM(ctx, func(ev cgroup.OOMEvent) bool {
		events = append(events, ev)
		return false
	})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	if len(events) != 1 || events[0].OOMKills == nil || *events[0].OOMKills <= *before || events[0].New < 1 {
		t.Fatalf("events %+v (before %d)", events, *before)
	}
	after, err := c.OOMKills()
	if err != nil || *after < *before+1 {
		t.Errorf("oom kills %v → %v, %v", *before, after, err)
	}
}

// The v2 watch on a fixture tree: inotify sees memory.events change.
func TestFixtureV2WatchOOM(t *testing.T) {
	root := trees.Unpack(t, "cgroupv2-systemd")
	c, err := cgroup.ForPID(root, 2543)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := c.Dir("")
	events := filepath.Join(dir, "memory.events")
	write := func(s string) {
		if err := os.WriteFile(events, []byte(s), 0o644); err != nil {
			t.Error(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		time.Sleep(100 * time.Millisecond)
		write("low 0\nhigh 0\nmax 9\noom 3\noom_kill 2\n") // not a kill: no call
		time.Sleep(100 * time.Millisecond)
		write("low 0\nhigh 0\nmax 9\noom 5\noom_kill 4\n")
	}()
	var got []cgroup.OOMEvent
	err = c.WatchOOM(ctx, func(ev cgroup.OOMEvent) bool {
		got = append(got, ev)
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OOMKills == nil || *got[0].OOMKills != 4 || got[0].New != 2 {
		t.Errorf("events %+v", got)
	}
	// ctx ends the watch.
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.WatchOOM(ctx, func(cgroup.OOMEvent) bool { return true }); err != context.DeadlineExceeded {
		t.Errorf("watch after the deadline: %v", err)
	}
	// The cgroup goes away during the watch.
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.RemoveAll(dir)
	}()
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WatchOOM(ctx, func(cgroup.OOMEvent) bool { return true }); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Errorf("watch of a removed cgroup: %v", err)
	}
}

// openFDs counts this process's open files.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A watch lets go of its eventfd or inotify instance, and its reader
// goroutine, however it ends: its timeout, the callback returning false,
// the callback raising an error, the statement's end.
func TestWatchOOMReleasesItsFiles(t *testing.T) {
	t.Run("v1-host", func(t *testing.T) {
		c := memoryCgroup(t, 64<<20)
		// An eventfd; no OOM happens, so the callback never runs here.
		L := luatest.NewState(t)
		L.SetGlobal("CG", lua.LString(c.Path))
		watchReleases(t, L, "")
	})
	t.Run("v2-fixture", func(t *testing.T) {
		root := trees.Unpack(t, "cgroupv2-systemd")
		c, err := cgroup.ForPID(root, 2543)
		if err != nil {
			t.Fatal(err)
		}
		dir, _ := c.Dir("")
		L := luatest.NewState(t)
		luax.SetHostRoot(L, root)
		L.SetGlobal("CG", lua.LString(c.Path))
		watchReleases(t, L, dir)
	})
}

// watchReleases runs watches of the cgroup CG in L; with dir (the cgroup's
// directory in a fixture tree) it also changes memory.events there to
// make the callback run.
func watchReleases(t *testing.T, L *lua.LState, dir string) {
	g0, fds0 := runtime.NumGoroutine(), openFDs(t)
	check := func(how string) {
		t.Helper()
		for i := 0; i < 100 && (runtime.NumGoroutine() > g0 || openFDs(t) > fds0); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if g, fds := runtime.NumGoroutine(), openFDs(t); g > g0 || fds > fds0 {
			t.Errorf("after a watch ended by %s: %d goroutines (%d before), %d files open (%d before)", how, g, g0, fds, fds0)
		}
	}
	run := func(timeout time.Duration, src string) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		L.SetContext(ctx)
		defer L.RemoveContext()
		return L.DoString(src)
	}
	if err := run(20*time.Second, `assert(cgroup.open(CG):watch_oom(function() end, {timeout = 0.05}))`); err != nil {
		t.Fatal(err)
	}
	check("its timeout")
	if err := run(50*time.Millisecond, `cgroup.open(CG):watch_oom(function() end)`); err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("a watch at the statement's end: %v", err)
	}
	check("the statement's end")
	if dir == "" {
		return
	}
	for _, tc := range []struct{ how, fn, want string }{
		{"the callback returning false", `function() return false end`, ""},
		{"the callback raising", `function() error("boom") end`, "boom"},
	} {
		go func() {
			time.Sleep(100 * time.Millisecond)
			os.WriteFile(filepath.Join(dir, "memory.events"), []byte("low 0\nhigh 0\nmax 9\noom 9\noom_kill 9\n"), 0o644)
		}()
		err := run(20*time.Second, `local cg = cgroup.open(CG)
			local ok, err = pcall(cg.watch_oom, cg, `+tc.fn+`, {timeout = 10})
			if "`+tc.want+`" == "" then assert(ok == true and err == true, err)
			else assert(not ok and err:find("`+tc.want+`"), err) end`)
		if err != nil {
			t.Errorf("%s: %v", tc.how, err)
		}
		os.WriteFile(filepath.Join(dir, "memory.events"), []byte("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), 0o644)
		check(tc.how)
	}
}

// skipOrFail skips when the host cannot run the test, except in CI
// (CI=true), whose hosts can: there it fails.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}
