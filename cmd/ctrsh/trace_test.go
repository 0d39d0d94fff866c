package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// bpfHeld lists the BPF program and link ids process pid holds open, from
// /proc/PID/fdinfo.
func bpfHeld(t *testing.T, pid int) (progs, links []uint32) {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fdinfo")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				continue
			}
			switch k {
			case "prog_id":
				progs = append(progs, uint32(n))
			case "link_id":
				links = append(links, uint32(n))
			}
		}
	}
	return progs, links
}

// waitBPF waits until process pid holds BPF programs and links, and returns
// their ids and the programs' names.
func waitBPF(t *testing.T, pid int) (progs, links []uint32) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		progs, links = bpfHeld(t, pid)
		if len(progs) > 0 && len(links) > 0 {
			for _, id := range progs {
				p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
				if err != nil {
					t.Fatalf("program %d: %v", id, err)
				}
				info, err := p.Info()
				p.Close()
				if err != nil || !strings.HasPrefix(info.Name, "ctrsh_") {
					t.Errorf("program %d of ctrsh is named %q (%v), want ctrsh_*", id, info.Name, err)
				}
			}
			return progs, links
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d holds no BPF program and link after 20 s", pid)
	return nil, nil
}

// gone checks that the kernel no longer has the programs and links, and
// that nothing of ctrsh's is pinned in /sys/fs/bpf.
func gone(t *testing.T, progs, links []uint32) {
	t.Helper()
	for _, id := range progs {
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); !errors.Is(err, os.ErrNotExist) {
			if err == nil {
				p.Close()
			}
			t.Errorf("program %d is still loaded (%v)", id, err)
		}
	}
	for _, id := range links {
		if l, err := link.NewFromID(link.ID(id)); !errors.Is(err, os.ErrNotExist) {
			if err == nil {
				l.Close()
			}
			t.Errorf("link %d is still in the kernel (%v)", id, err)
		}
	}
	ents, _ := os.ReadDir("/sys/fs/bpf")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "ctrsh") {
			t.Errorf("/sys/fs/bpf/%s is pinned", e.Name())
		}
	}
}

// Ctrl-C in the shell stops a trace loop and detaches every program while
// the shell goes on: the process holds no program or link any more, and the
// kernel has none of those it held.
func TestTraceCtrlCDetaches(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm", "NO_COLOR=1",
		"CTRSH_AUDIT_FILE=" + filepath.Join(t.TempDir(), "audit.jsonl")}
	st := ptytest.Start(t, cmd)
	st.Expect(`ctrsh> `)
	st.Send(`it = assert(trace.stream({"exec", "exit", "connect", "open"}, {})) print("attached") for e in it do end` + "\r")
	st.Expect(`\nattached\r?\n`)
	progs, links := waitBPF(t, cmd.Process.Pid)
	st.Send("\x03")
	st.Expect(`interrupted`)
	st.Expect(`ctrsh> `)
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, l := bpfHeld(t, cmd.Process.Pid)
		if len(p) == 0 && len(l) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Ctrl-C the shell still holds programs %v and links %v", p, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
	gone(t, progs, links)
	st.Send(`print("still" .. "here")` + "\r")
	st.Expect(`\nstillhere\r?\n`)
	st.Send("\x04")
	if code := st.Wait(); code != 0 {
		t.Errorf("exit %d after Ctrl-D", code)
	}
}

// --timeout ends a trace loop with 124, and what it loaded is gone.
func TestTraceTimeoutDetaches(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctrshBinary(t), "--timeout", "3s", "-e",
		`local it = assert(trace.stream({"exec", "oom", "open"}, {})) io.stderr:write("attached\n") for e in it do end`)
	cmd.Env = append(os.Environ(), "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit.jsonl"))
	var stderr traceBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	progs, links := waitBPF(t, cmd.Process.Pid)
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 124 {
		t.Errorf("exit: %v, want 124; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "attached") {
		t.Errorf("stderr %q", stderr.String())
	}
	gone(t, progs, links)
}

// Where tracefs is not mounted, the first trace that needs it (open: the
// syscall tracepoints) mounts it and says so once; exec needs none. Run in
// a private mount namespace, so the host's mounts are left alone.
func TestTraceMountsTracefs(t *testing.T) {
	testengine.NeedRoot(t, "mounting tracefs")
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("unshare (util-linux) is needed: %v", err)
	}
	script := `for t in /sys/kernel/tracing /sys/kernel/debug/tracing /sys/kernel/debug; do umount "$t" 2>/dev/null; done
if grep -qw tracefs /proc/self/mountinfo; then echo "tracefs still mounted" >&2; exit 99; fi
"$0" -e '
for e in trace.exec{duration = 0.2} do end
io.stderr:write("exec done\n")
for i = 1, 2 do for e in trace.open{duration = 0.2} do end end
io.stderr:write("open done\n")
'
grep -w tracefs /proc/self/mountinfo | grep -q /sys/kernel/tracing || { echo "tracefs not mounted after" >&2; exit 98; }`
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c", script, ctrshBinary(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v; stderr:\n%s", err, stderr.String())
	}
	msg := "ctrsh: mounted tracefs on /sys/kernel/tracing"
	out := stderr.String()
	if n := strings.Count(out, msg); n != 1 {
		t.Errorf("%q said %d times, want once:\n%s", msg, n, out)
	}
	if i, j := strings.Index(out, "exec done"), strings.Index(out, msg); i < 0 || j < i {
		t.Errorf("tracefs mounted before the open trace (exec needs none):\n%s", out)
	}
	if !strings.Contains(out, "open done") {
		t.Errorf("stderr:\n%s", out)
	}
}

// traceBuffer is a bytes.Buffer written by one goroutine, read by another.
type traceBuffer struct {
	mu   sync.Mutex
	data bytes.Buffer
}

func (b *traceBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data.Write(p)
}

func (b *traceBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data.String()
}

// Not root: the trace calls say so, and the rest of the run goes on.
func TestTraceNeedsRoot(t *testing.T) {
	testengine.NeedRoot(t, "switching to another user")
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed: %v", err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ctrsh")
	b, err := os.ReadFile(ctrshBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "-e",
		`local it, err = trace.exec{} print(it, err) print(proc.self().uid)`)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NO_COLOR=1"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "nil\ttracing needs root (CAP_BPF and CAP_PERFMON): operation not permitted\n65534\n"
	if string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
}
