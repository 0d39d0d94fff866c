package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// ctrsh top with the engine not answering (a private engine, frozen, then
// killed): the containers come from the engine's state on disk, their
// figures from the cgroups, and the view says so; on a terminal too, the
// screen shows them and their processes.
func TestTopEngineNotAnswering(t *testing.T) {
	eng := testengine.StartPrivate(t)
	eng.Run(t, "--name", "web", "--hostname", "web", testengine.BusyboxImage, "sh", "-c", "echo hello-from-disk; exec sleep 100001")
	tmp := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "NO_COLOR=1", "TERM=xterm", "DOCKER_HOST=" + eng.Host,
		"CTRSH_DOCKER_ROOTS=" + filepath.Join(tmp, "roots.json"), "CTRSH_AUDIT_FILE=" + filepath.Join(tmp, "audit.jsonl")}
	sample := func(limit time.Duration) (map[string]any, result) {
		t.Helper()
		r := ctrshWithin(t, limit, env, "", "top", "--json", "--interval", "300ms")
		var row map[string]any
		if r.code != 0 || json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &row) != nil {
			t.Fatalf("ctrsh top --json: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		return row, r
	}
	row, _ := sample(60 * time.Second) // the engine answers: its data root is remembered
	if row["name"] != "web" || row["source"] != "engine" {
		t.Fatalf("with the engine: %v", row)
	}
	for _, how := range []string{"frozen", "killed"} {
		t.Run(how, func(t *testing.T) {
			if how == "frozen" {
				eng.Freeze(t)
				defer eng.Thaw(t)
			} else {
				eng.Kill(t)
				defer eng.Start(t)
			}
			row, r := sample(20 * time.Second)
			if row["name"] != "web" || row["source"] != "disk" || row["pids"] != 1.0 || row["mem_usage"].(float64) <= 0 {
				t.Errorf("from disk: %v", row)
			}
			if !strings.Contains(r.stderr, "containers from the engine's state on disk: docker engine "+eng.Host) {
				t.Errorf("stderr %q does not say the list is from disk", r.stderr)
			}

			cmd := exec.Command(ctrshBinary(t), "top")
			cmd.Env = env
			st := ptytest.Start(t, cmd)
			st.Expect(`1 containers \(docker, from disk\)`)
			st.Expect(`containers from the engine's state on disk`)
			st.Send("\r")
			st.Expect(`sleep 100001`)
			st.Expect(`hello-from-disk`)
			st.Send("q")
			if code := st.Wait(); code != 0 {
				t.Errorf("q: exit %d", code)
			}
		})
	}
}
