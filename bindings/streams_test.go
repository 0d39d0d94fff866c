package bindings_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl"
)

// fdCount is the number of open files of process pid ("self" for ours).
func fdCount(t testing.TB, pid string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatalf("counting fds: %v", err)
	}
	return len(ents)
}

// engineLogFDs counts the files the test engine's dockerd has open on a
// container's log (one per reader of its logs), or -1 when the engine is
// not the one engine.sh started (its pid unknown).
func engineLogFDs(t testing.TB, id string) int {
	t.Helper()
	if testengine.Endpoint() != testengine.DefaultHost {
		return -1
	}
	b, err := os.ReadFile("/run/ctrsh-test/docker.pid")
	if err != nil {
		return -1
	}
	dir := "/proc/" + strings.TrimSpace(string(b)) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.Contains(target, id) && strings.HasSuffix(target, "-json.log") {
			n++
		}
	}
	return n
}

// tickingContainer runs a container that logs a line every 0.2 s.
func tickingContainer(t testing.TB) string {
	return testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "while true; do echo tick; sleep 0.2; done")
}

func engineState(t testing.TB, out io.Writer) *lua.LState {
	L := bindings.New(&luax.Env{Stdout: out, Stderr: out, DockerHost: testengine.Host(t)})
	t.Cleanup(L.Close)
	return L
}

// probe adds probe(): the streams the state holds open, this process's
// open files, and the engine's open files on the container's log.
func probe(t testing.TB, L *lua.LState, id string) {
	L.SetGlobal("probe", L.NewFunction(func(L *lua.LState) int {
		open, _ := luax.OpenResources(L)
		L.Push(lua.LNumber(open))
		L.Push(lua.LNumber(fdCount(t, "self")))
		L.Push(lua.LNumber(engineLogFDs(t, id)))
		return 3
	}))
}

// A script that leaves c:logs{follow=true} and events.stream loops with
// break holds at most MaxOpenStreams of them at any time, and none once
// collectgarbage() returns: its own open files and the engine's readers of
// the container's log are back where they started.
func TestAbandonedStreamsAreReleased(t *testing.T) {
	id := tickingContainer(t)
	L := engineState(t, io.Discard)
	probe(t, L, id)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	L.SetContext(ctx)
	t0 := time.Now().Add(-time.Minute).Unix()
	err := L.DoString(fmt.Sprintf(`
		local c = assert(docker.container(%q))
		local _, fds0, logs0 = probe()
		local lines, evs, most, most_fds, most_logs = 0, 0, 0, 0, 0
		for i = 1, 60 do
			for l in c:logs{follow = true, tail = 1} do lines = lines + 1 break end
			for ev in events.stream{since = %d} do evs = evs + 1 break end
			local open, fds, logs = probe()
			most = math.max(most, open)
			most_fds = math.max(most_fds, fds - fds0)
			most_logs = math.max(most_logs, logs - logs0)
		end
		collectgarbage()
		local open, fds, logs = probe()
		result = {lines = lines, events = evs, most = most, most_fds = most_fds, most_logs = most_logs,
			open = open, fds = fds - fds0, logs = logs - logs0, logs0 = logs0}
	`, id, t0))
	if err != nil {
		t.Fatal(err)
	}
	r := luax.ToGo(L.GetGlobal("result")).(map[string]any)
	t.Logf("%v", r)
	num := func(k string) float64 {
		switch v := r[k].(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		}
		t.Fatalf("result.%s = %v", k, r[k])
		return 0
	}
	if num("lines") != 60 || num("events") != 60 {
		t.Errorf("read %v lines and %v events, want 60 of each", num("lines"), num("events"))
	}
	if max := float64(luax.MaxOpenStreams); num("most") > max {
		t.Errorf("%v streams open at once, want at most %v", num("most"), max)
	}
	// Each open stream is one connection to the engine.
	if max := float64(luax.MaxOpenStreams + 4); num("most_fds") > max {
		t.Errorf("%v more files open at the most, want at most %v", num("most_fds"), max)
	}
	if num("open") != 0 {
		t.Errorf("%v streams open after collectgarbage(), want 0", num("open"))
	}
	if num("fds") > 2 {
		t.Errorf("%v more files open after collectgarbage() than before, want at most 2 (idle engine connections)", num("fds"))
	}
	if num("logs0") >= 0 {
		if max := float64(luax.MaxOpenStreams); num("most_logs") > max {
			t.Errorf("the engine read the log %v times at once, want at most %v", num("most_logs"), max)
		}
		// The engine closes a follower's file when it notices the
		// connection is gone. (logs0 counts its own writer.)
		deadline := time.Now().Add(10 * time.Second)
		for float64(engineLogFDs(t, id)) > num("logs0") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := engineLogFDs(t, id); float64(n) > num("logs0") {
			t.Errorf("the engine has the log open %d times, %v before the streams", n, num("logs0"))
		}
	}
}

// In the shell, the streams a statement opened end with it, abandoned or
// not (the next statement would raise if it read them).
func TestStreamsEndWithTheirShellStatement(t *testing.T) {
	id := tickingContainer(t)
	var out, errOut strings.Builder
	L := engineState(t, &out)
	in := io.NopCloser(strings.NewReader(fmt.Sprintf(`c = assert(docker.container(%q))
for l in c:logs{follow = true} do n = 1 break end
it = events.stream{}
print("left", n)
`, id)))
	if err := repl.Run(context.Background(), L, repl.Config{Stdin: in, Stdout: &out, Stderr: &errOut, HistoryFile: filepath.Join(t.TempDir(), "h")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "left\t1") || errOut.Len() > 0 {
		t.Fatalf("shell: stdout %q, stderr %q", out.String(), errOut.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		open, _ := luax.OpenResources(L)
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams still open after their statements ended", open)
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := L.DoString(`local ok, err = pcall(it) assert(not ok and err:find("stream ended with the statement that opened it"), err)`)
	if err != nil {
		t.Error(err)
	}
}

// settled waits until the goroutine count stops falling (connections close
// asynchronously) and returns it.
func settled() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n && i > 5 {
			break
		}
		n = m
	}
	return n
}

// BenchmarkAbandonedStream opens a stream, reads one value and leaves the
// loop with break, b.N times, then collects: what each abandoned stream
// leaves behind, in goroutines and open files (0 and 0).
func BenchmarkAbandonedStream(b *testing.B) {
	id := tickingContainer(b)
	for _, bc := range []struct{ name, loop string }{
		{"logs", `for l in c:logs{follow = true, tail = 1} do n = n + 1 break end`},
		{"events", fmt.Sprintf(`for ev in events.stream{since = %d} do n = n + 1 break end`, time.Now().Add(-time.Minute).Unix())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			L := engineState(b, io.Discard)
			if err := L.DoString(fmt.Sprintf(`c = assert(docker.container(%q)) n = 0`, id)); err != nil {
				b.Fatal(err)
			}
			fn, err := L.LoadString(bc.loop)
			if err != nil {
				b.Fatal(err)
			}
			// Warm up the engine client's connection pool.
			if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			g0, fds0 := settled(), fdCount(b, "self")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
					b.Fatal(err)
				}
			}
			if err := L.DoString(`collectgarbage()`); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			g, fds := settled(), fdCount(b, "self")
			b.ReportMetric(float64(g-g0)/float64(b.N), "goroutines/op")
			b.ReportMetric(float64(fds-fds0)/float64(b.N), "fds/op")
		})
	}
}
