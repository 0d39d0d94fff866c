package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// TestEngineNotAnswering runs ctrsh against a private engine of its own
// (never the shared one) while its dockerd is stopped by SIGSTOP (connected
// but silent), then while it is killed (its socket gone): containers are
// read from the engine's state on disk, what works without the engine works,
// what needs it says so, and a shell started before sees the engine again
// once it answers, without a restart.
func TestEngineNotAnswering(t *testing.T) {
	eng := testengine.StartPrivate(t)
	id := eng.Run(t, "--name", "web", "--hostname", "web", "-e", "DB_PASSWORD=hunter2hunter2", "--restart", "unless-stopped",
		testengine.BusyboxImage, "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8; do echo line-$i; done; sleep 0.5; echo 'ERROR: disk on fire' >&2; sleep 100000 & exec sleep 100001")
	var logs, top string
	waitUntil(t, "web's log and its init", func() bool {
		b, _ := os.ReadFile(filepath.Join(eng.DataRoot(), "containers", id, id+"-json.log"))
		logs = string(b)
		top, _ = eng.Docker(t, "top", "web")
		return strings.Contains(logs, "line-8") && strings.Contains(logs, "disk on fire") && strings.Contains(top, "sleep 100001")
	}, func() string { return "logs " + logs + "\ntop " + top })

	tmp := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "NO_COLOR=1", "TERM=xterm",
		"DOCKER_HOST=" + eng.Host,
		"CTRSH_LOCK_DIR=" + filepath.Join(tmp, "locks"),
		"CTRSH_AUDIT_FILE=" + filepath.Join(tmp, "audit.jsonl"),
		// The data root this engine reports is remembered here, not in /run/ctrsh.
		"CTRSH_DOCKER_ROOTS=" + filepath.Join(tmp, "roots.json"),
		"CTRSH_JOURNAL=" + filepath.Join(tmp, "journal.db"),
	}
	run := func(limit time.Duration, args ...string) result {
		t.Helper()
		return ctrshWithin(t, limit, env, "", args...)
	}

	before := run(60*time.Second, "run", "pidmap", "web", "--json")
	if before.code != 0 || len(jsonLines(t, before.stdout)) != 2 {
		t.Fatalf("pidmap with the engine: exit %d, stdout %q, stderr %q", before.code, before.stdout, before.stderr)
	}
	const tailChunk = `for l in assert(docker.container("web")):logs{tail=5} do print(l.stream, l.line) end`
	tail := run(60*time.Second, "-e", tailChunk)
	if want := "stdout\tline-6\nstdout\tline-7\nstdout\tline-8\nstderr\tERROR: disk on fire\n"; tail.code != 0 || !strings.HasSuffix(tail.stdout, want) {
		t.Fatalf("logs{tail=5} with the engine: exit %d, stdout %q (want it to end %q), stderr %q", tail.code, tail.stdout, want, tail.stderr)
	}

	// A journal of web's pause and unpause, recorded while the engine answers.
	rec := exec.Command(ctrshBinary(t), "journal", "record", "--sample", "1h")
	rec.Env = env
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	stopRec := func() { rec.Process.Signal(syscall.SIGTERM); rec.Wait() }
	defer stopRec()
	const paused = `local n = 0 for _, e in ipairs(assert(assert(docker.container("web")):history{})) do if e.action == "pause" then n = n + 1 end end print(n)`
	waitUntil(t, "the journal to record a pause of web", func() bool {
		eng.Docker(t, "pause", "web")
		eng.Docker(t, "unpause", "web")
		return strings.TrimSpace(run(60*time.Second, "-e", paused).stdout) >= "1"
	}, func() string { return run(60*time.Second, "-e", paused).stderr })
	stopRec()

	// The shell, started while the engine answers.
	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = env
	sh := ptytest.Start(t, cmd)
	sh.Expect(`ctrsh> `)
	listed := `print("listed:", #docker.containers(), docker.containers()[1].source)` + "\r"
	sh.Send(listed)
	sh.Expect(`listed:\s+1\s+engine`)

	for _, how := range []string{"frozen", "killed"} {
		t.Run(how, func(t *testing.T) {
			if how == "frozen" {
				eng.Freeze(t)
				defer eng.Thaw(t)
			} else {
				eng.Kill(t)
				defer eng.Start(t)
			}

			// Within 3 s, the same rows, and one notice on stderr.
			start := time.Now()
			r := run(3*time.Second, "run", "pidmap", "web", "--json")
			t.Logf("pidmap took %v", time.Since(start))
			if r.code != 0 || !slices.Equal(jsonLines(t, r.stdout), jsonLines(t, before.stdout)) {
				t.Errorf("pidmap: exit %d, stdout %q, want %q; stderr %q", r.code, r.stdout, before.stdout, r.stderr)
			}
			if n := strings.Count(r.stderr, "not reachable"); n != 1 || !strings.Contains(r.stderr, "reading container state from disk ("+eng.DataRoot()+")") {
				t.Errorf("pidmap: stderr %q: want one notice naming the data root", r.stderr)
			}

			// The bundled playbooks complete (run side by side: each waits
			// for the engine once).
			pbs := [][]string{
				{"top-mem"}, {"top-cpu", "--interval", "0.2"}, {"zombies"}, {"inspect-ns", "web"},
				{"env-audit"}, {"log-errors", "--since", "1h"}, {"diag-bundle", "web", "--dir", filepath.Join(t.TempDir(), "diag")},
				{"health"},
			}
			results := make([]result, len(pbs))
			var wg sync.WaitGroup
			for i, pb := range pbs {
				wg.Go(func() { results[i] = run(60*time.Second, append(append([]string{"run"}, pb...), "--json")...) })
			}
			wg.Wait()
			for i, pb := range pbs[:len(pbs)-1] {
				r := results[i]
				if r.code != 0 {
					t.Errorf("%s: exit %d\nstdout %s\nstderr %s", pb[0], r.code, r.stdout, r.stderr)
					continue
				}
				want := map[string]string{
					"top-mem":     `"container":"web"`,
					"top-cpu":     `"container":"web"`,
					"inspect-ns":  `"container":"web"`,
					"env-audit":   `"name":"DB_PASSWORD","value":"******** (14 chars)"`,
					"log-errors":  `"line":"ERROR: disk on fire"`,
					"diag-bundle": `"container":"web"`,
				}[pb[0]]
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s: stdout %q lacks %s", pb[0], r.stdout, want)
				}
			}

			// health: a finding (exit 3) that names the engine.
			r = results[len(pbs)-1]
			if r.code != 3 || !strings.Contains(r.stderr, "engine not answering: docker engine "+eng.Host) {
				t.Errorf("health: exit %d (want 3), stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}

			// One state: the container from disk, its logs, entering it,
			// and what needs the engine.
			r = run(60*time.Second, "-e", `
				local c = assert(docker.container("web"))
				print("source", c.source, c.state, c.restart_policy, c.runtime)
				for l in c:logs{tail=5} do print(l.stream, l.line) end
				print("enter", (assert(c:enter{"hostname"}).stdout:gsub("\n", "")))
				print("run", c:run[[ return io.open("/etc/hostname"):read("*a") ]])
				print("exec", c:exec{"true"})
				print("inspect", c:inspect())
				print("list", #assert(docker.containers()), #assert(docker.stats{}))
				local paused = 0
				for _, e in ipairs(assert(c:history{})) do if e.action == "pause" then paused = paused + 1 end end
				print("history", paused > 0)
			`)
			if r.code != 0 {
				t.Fatalf("-e: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
			}
			for _, want := range []string{
				"source\tdisk\trunning\tunless-stopped\tdocker\n",
				"stdout\tline-6\nstdout\tline-7\nstdout\tline-8\nstderr\tERROR: disk on fire\n",
				"enter\tweb\n",
				"run\tweb\n",
				`exec	nil	engine not answering: container "web": exec: docker engine ` + eng.Host + `: not reachable: `,
				`inspect	nil	engine not answering: container "web": inspect needs the engine: docker engine ` + eng.Host,
				"list\t1\t1\n",
				"history\ttrue\n",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("-e: stdout %q lacks %q", r.stdout, want)
				}
			}
			if n := strings.Count(r.stderr, "reading container state from disk"); n != 1 {
				t.Errorf("-e: %d notices on stderr, want 1: %q", n, r.stderr)
			}

			// The shell: from disk now, said once.
			sh.Send(listed)
			sh.Expect(`ctrsh: docker engine \S+: not reachable: .*reading container state from disk`)
			sh.Expect(`listed:\s+1\s+disk`)
			sh.Send(listed)
			sh.Expect(`listed:\s+1\s+disk`)
		})
		if t.Failed() {
			return
		}
		// Thawed or restarted: the same shell lists from the engine again.
		t.Logf("after %s: %s", how, eng.MustDocker(t, "ps", "-a"))
		sh.Send(listed)
		sh.Expect(`answers again`)
		sh.Expect(`listed:\s+1\s+engine`)
	}
	if out := sh.Output(); strings.Count(out, "reading container state from disk") != 2 {
		t.Errorf("the shell said %d times that it reads from disk, want once per stop (2):\n%s",
			strings.Count(out, "reading container state from disk"), out)
	}
}

// jsonLines is the sorted lines of JSON output, each checked to be an object.
func jsonLines(t *testing.T, out string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON object: %q", l)
		}
		lines = append(lines, l)
	}
	slices.Sort(lines)
	return lines
}

func waitUntil(t *testing.T, what string, cond func() bool, last func() string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waited 30s for %s; last seen:\n%s", what, last())
}
