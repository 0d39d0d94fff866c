package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// openFiles counts /proc/PID/fd, and with match, the entries whose target
// satisfies it. -1 when the process is gone.
func openFiles(pid int, match func(target string) bool) (all, matched int) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1, -1
	}
	for _, e := range ents {
		if match != nil {
			if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && match(target) {
				matched++
			}
		}
	}
	return len(ents), matched
}

// One run that abandons 300 c:logs{follow=true} and 300 events.stream{}
// loops (issue 11): ctrsh's open files and the engine's stay within a small
// bound while it runs and end within 10 of where they started, and the
// engine keeps serving `docker logs -f` to others meanwhile.
func TestAbandonedStreamsInOneRun(t *testing.T) {
	host := testengine.Host(t)
	if host != testengine.DefaultHost {
		t.Skipf("needs the engine engine.sh starts (its dockerd pid); CTRSH_TEST_DOCKER_HOST is %s", host)
	}
	// The engine's open files are counted: no other package's tests may
	// use it meanwhile.
	testengine.Exclusive(t)
	b, err := os.ReadFile("/run/ctrsh-test/docker.pid")
	if err != nil {
		t.Fatalf("dockerd pid: %v", err)
	}
	dockerd, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("dockerd pid: %v", err)
	}
	since := time.Now().Add(-time.Second).Unix()
	id := testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "while true; do echo tick; sleep 0.1; done")
	ourLog := func(target string) bool {
		return strings.Contains(target, id) && strings.HasSuffix(target, "-json.log")
	}

	script := writePlaybook(t, t.TempDir(), "abandon.lua", `
local c = assert(docker.container(arg[1]))
local since = tonumber(arg[2])
print("ready")
io.read()
local lines, evs = 0, 0
for i = 1, 300 do
  for l in c:logs{follow = true, tail = 1} do lines = lines + 1 break end
end
for i = 1, 300 do
  for ev in events.stream{since = since} do evs = evs + 1 break end
end
collectgarbage()
print("done", lines, evs)
io.read()
`, 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctrshBinary(t), script, id, strconv.FormatInt(since, 10))
	cmd.Env = engineEnv(t)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	lines := bufio.NewScanner(stdout)
	expect := func(prefix string) string {
		t.Helper()
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), prefix) {
			t.Fatalf("ctrsh printed %q, want %q...; stderr: %s", lines.Text(), prefix, stderr.String())
		}
		return lines.Text()
	}
	expect("ready")
	pid := cmd.Process.Pid
	ctrsh0, _ := openFiles(pid, nil)
	engine0, logs0 := openFiles(dockerd, ourLog)

	// Meanwhile, another client follows the container's logs, again and
	// again: the engine must keep serving it.
	var (
		mu       sync.Mutex
		served   int
		failures []string
	)
	stopFollow := make(chan struct{})
	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		for {
			select {
			case <-stopFollow:
				return
			default:
			}
			fctx, fcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			out, _ := exec.CommandContext(fctx, "docker", "-H", host, "logs", "-f", "--tail", "1", id).CombinedOutput()
			fcancel()
			mu.Lock()
			if strings.Contains(string(out), "tick") && !strings.Contains(string(out), "rror") {
				served++
			} else {
				failures = append(failures, string(out))
			}
			mu.Unlock()
		}
	}()

	io.WriteString(stdin, "go\n")
	done := make(chan string, 1)
	go func() { done <- expect("done") }()
	var maxCtrsh, maxEngine, maxLogs int
	sample := func() {
		if n, _ := openFiles(pid, nil); n > maxCtrsh {
			maxCtrsh = n
		}
		n, l := openFiles(dockerd, ourLog)
		maxEngine, maxLogs = max(maxEngine, n), max(maxLogs, l)
	}
	var result string
	for result == "" {
		select {
		case result = <-done:
		case <-time.After(10 * time.Millisecond):
			sample()
		}
	}
	if f := strings.Fields(result); len(f) != 3 || f[1] != "300" || f[2] != "300" {
		t.Errorf("ctrsh printed %q, want: done 300 300", result)
	}
	ctrshEnd, _ := openFiles(pid, nil)
	close(stopFollow)
	<-followDone
	// The engine lets go of a connection when it notices it closed; other
	// test processes use it too, so take its lowest count over a while.
	engineEnd, logsEnd := openFiles(dockerd, ourLog)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && (engineEnd > engine0+10 || logsEnd > logs0); {
		time.Sleep(100 * time.Millisecond)
		n, l := openFiles(dockerd, ourLog)
		engineEnd, logsEnd = min(engineEnd, n), min(logsEnd, l)
	}
	io.WriteString(stdin, "\n")

	t.Logf("ctrsh fds: %d at the start, %d at the most, %d at the end", ctrsh0, maxCtrsh, ctrshEnd)
	t.Logf("engine fds: %d at the start, %d at the most, %d at the end; on the container's log: %d, %d, %d",
		engine0, maxEngine, engineEnd, logs0, maxLogs, logsEnd)
	t.Logf("docker logs -f served %d times, failed %d times", served, len(failures))
	if ctrshEnd > ctrsh0+10 {
		t.Errorf("ctrsh has %d files open at the end, %d at the start", ctrshEnd, ctrsh0)
	}
	if engineEnd > engine0+10 {
		t.Errorf("the engine has %d files open at the end, %d at the start", engineEnd, engine0)
	}
	// Never more than the bound of streams at once, however many were left.
	if maxCtrsh > ctrsh0+luax.MaxOpenStreams+10 {
		t.Errorf("ctrsh had %d files open at the most, %d at the start (streams bounded at %d)", maxCtrsh, ctrsh0, luax.MaxOpenStreams)
	}
	// (+1: the docker logs -f running meanwhile; +2: followers killed
	// that the engine has not noticed gone yet: it notices at its next
	// write to them, and under a loaded make test that came after the next
	// follower had started, twice: 20 = 1+16+3 was seen once.) A leak of
	// the 300 abandoned streams would show as hundreds.
	if maxLogs > logs0+luax.MaxOpenStreams+3 {
		t.Errorf("the engine had the container's log open %d times at the most, %d at the start", maxLogs, logs0)
	}
	if logsEnd > logs0 {
		t.Errorf("the engine has the container's log open %d times at the end, %d at the start", logsEnd, logs0)
	}
	if served == 0 || len(failures) > 0 {
		t.Errorf("docker logs -f meanwhile: served %d times, failed %d times: %q", served, len(failures), failures)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("ctrsh: %v; stderr: %s", err, stderr.String())
	}
}

// Misuse that used to end a run with exit 70 (a Go panic) or be silently
// truncated raises an error naming the function: exit 1, the message on
// stderr.
func TestMisuseRaisesNamingTheFunction(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	id := testengine.Run(t, testengine.BusyboxImage, "sleep", "300")
	for _, tc := range []struct{ src, want string }{
		{fmt.Sprintf(`local conn = assert(net.dial(%q)) conn:read(-1)`, l.Addr()),
			`bad argument #1 to 'conn:read' (count must not be negative, got -1)`},
		{fmt.Sprintf(`local conn = assert(net.dial(%q)) conn:read(2^60)`, l.Addr()),
			`bad argument #1 to 'conn:read' (integer expected, got 1.1529215046068e+18)`},
		{fmt.Sprintf(`local c = assert(docker.container(%q)) for l in c:logs{tail = 1.5} do end`, id),
			`bad argument #1 to 'c:logs' (option "tail": integer expected, got 1.5)`},
		{`docker.containers(5)`, `bad argument #1 to 'docker.containers' (table expected, got number)`},
	} {
		r := ctrshEnv(t, engineEnv(t), "", "-e", tc.src)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("ctrsh -e %q: exit %d, stderr %q; want exit 1 and %q", tc.src, r.code, r.stderr, tc.want)
		}
	}
}
