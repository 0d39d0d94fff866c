package proc_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func TestHostSelf(t *testing.T) {
	p, err := proc.Get(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != os.Getpid() || p.PPID != os.Getppid() || p.UID != os.Geteuid() {
		t.Errorf("self: %+v", p)
	}
	if len(p.Cmdline) == 0 || p.Cmdline[0] != os.Args[0] {
		t.Errorf("cmdline %q, want %q first", p.Cmdline, os.Args[0])
	}
	if p.Threads < 1 || p.RSS == 0 || p.StartTime <= 0 || float64(time.Now().Unix())-p.StartTime > 3600 {
		t.Errorf("threads %d rss %d start %v", p.Threads, p.RSS, p.StartTime)
	}
	if len(p.NSpid) == 0 || p.NSpid[0] != os.Getpid() {
		t.Errorf("nspid %v", p.NSpid)
	}
}

// A process in a PID namespace of its own is PID 1 there.
func TestHostPIDNamespace(t *testing.T) {
	testengine.NeedRoot(t, "this test")
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p, err := proc.Get(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.NSpid) < 2 || p.NSpid[0] != cmd.Process.Pid || p.PIDInside() != 1 {
		t.Errorf("nspid %v", p.NSpid)
	}
	if p.PPID != os.Getpid() || p.Comm != "sleep" {
		t.Errorf("ppid %d comm %q", p.PPID, p.Comm)
	}
}

// Processes that exit while they are read give "no such process", never a
// half-filled Process or a panic.
func TestHostExitingProcesses(t *testing.T) {
	fs, err := proc.NewFS("/")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var gone, read int
	var mu sync.Mutex
	for i := 0; i < 200; i++ {
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd.Wait()
		}()
		p, err := fs.Get(pid)
		mu.Lock()
		switch {
		case err == nil:
			read++
			if p.PID != pid {
				t.Errorf("got process %d for %d", p.PID, pid)
			}
		case errors.Is(err, proc.ErrNoProcess):
			gone++
			if !strings.HasSuffix(err.Error(), ": no such process") {
				t.Errorf("message %q", err)
			}
		default:
			t.Errorf("Get(%d): %v", pid, err)
		}
		mu.Unlock()
	}
	wg.Wait()
	t.Logf("%d read, %d gone while read", read, gone)
	// A PID that surely exited (reaped) is gone.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Get(cmd.Process.Pid); err != nil && !errors.Is(err, proc.ErrNoProcess) {
		t.Errorf("reaped: %v", err)
	}
}

func TestHostTable(t *testing.T) {
	fs, err := proc.NewFS("/")
	if err != nil {
		t.Fatal(err)
	}
	all, err := fs.Table(context.Background(), proc.Filter{Status: true, Cmdline: true, Cgroup: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range all {
		if p.PID == os.Getpid() {
			found = true
		}
		if len(p.NSpid) == 0 {
			t.Errorf("process %d has no NSpid", p.PID)
		}
	}
	if !found || len(all) < 3 {
		t.Errorf("%d processes, self found %v", len(all), found)
	}
}

// BenchmarkProcessTable reads the whole host process table with container
// ids and PIDs inside (stat, status, cgroup and cmdline of every process).
func BenchmarkProcessTable(b *testing.B) {
	fs, err := proc.NewFS("/")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		all, err := fs.Table(context.Background(), proc.Filter{Status: true, Cmdline: true, Cgroup: true})
		if err != nil {
			b.Fatal(err)
		}
		n = len(all)
	}
	b.ReportMetric(float64(n), "procs")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(max(n, 1))/1000, "µs/proc")
}

// TopOf reads a command line longer than its first read's buffer whole
// (stat, status and cmdline are read with one read when it leaves room
// in the buffer, and read on when it fills it), and lists the live child
// of a listed process too.
func TestTopOfLongCommandLine(t *testing.T) {
	long := strings.Repeat("0123456789", 1000) // 10,000 bytes: more than a page
	cmd, fs := startForTop(t, "sh", "-c", "sleep 1000; :", long)
	want := "sh -c sleep 1000; : " + long
	for deadline := time.Now().Add(10 * time.Second); ; {
		rows, err := fs.TopOf(context.Background(), []int{cmd.Process.Pid})
		if err != nil {
			t.Fatal(err)
		}
		var self, child bool
		for _, r := range rows {
			self = self || (r.PID == cmd.Process.Pid && r.Cmd == want)
			child = child || (r.PPID == cmd.Process.Pid && r.Comm == "sleep")
		}
		if self && child {
			return
		}
		if time.Now().After(deadline) {
			for _, r := range rows {
				t.Logf("row: pid %d ppid %d comm %q cmd %d bytes", r.PID, r.PPID, r.Comm, len(r.Cmd))
			}
			t.Fatalf("TopOf(%d): want the shell with its %d-byte command line and its sleep", cmd.Process.Pid, len(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TopOf lists the children of every thread of a process with several (a
// Go program forks from any of its threads): the test's own sleep.
func TestTopOfThreadsChildren(t *testing.T) {
	cmd, fs := startForTop(t, "sleep", "1000")
	rows, err := fs.TopOf(context.Background(), []int{os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	var self, child bool
	for _, r := range rows {
		self = self || r.PID == os.Getpid()
		child = child || (r.PID == cmd.Process.Pid && r.PPID == os.Getpid() && r.Cmd == "sleep 1000")
	}
	if !self || !child {
		t.Errorf("TopOf(self) = %+v, want self and sleep %d", rows, cmd.Process.Pid)
	}
}

// TopOf shows a zombie child of a listed process (it has left its
// cgroup's procs, but not its parent's children), and leaves out a PID
// that does not exist.
func TestTopOfZombie(t *testing.T) {
	// The shell's child exits unreaped: the shell became a sleep that
	// never waits.
	cmd, fs := startForTop(t, "sh", "-c", "sleep 0 & exec sleep 1000")
	parent := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; {
		rows, err := fs.TopOf(context.Background(), []int{4194305, parent})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 && rows[0].PID == parent && rows[0].Cmd == "sleep 1000" &&
			rows[1].PPID == parent && rows[1].State == "Z" && rows[1].Cmd == "[sleep]" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("TopOf(%d) = %+v, want the sleep and its zombie", parent, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startForTop starts a process for a TopOf test, killed and reaped when
// the test ends, and returns it with the host's /proc.
func startForTop(t *testing.T, name string, args ...string) (*exec.Cmd, *proc.FS) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	fs, err := proc.NewFS("/")
	if err != nil {
		t.Fatal(err)
	}
	return cmd, fs
}
