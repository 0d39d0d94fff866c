package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testcri"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// nodeRefRE finds the pod/container a Kubernetes node's transcript names.
var nodeRefRE = regexp.MustCompile(`containers\.get\("([^"/]+)/([^"]+)"\)`)

// runNodeTranscript types the statements of a transcript on a Kubernetes
// node at ctrsh on a terminal: its pod and container are a pod of the CRI
// test runtime (fixtures/cri.sh) under a unique name; the events loop sees
// the container stopped through the CRI, and Ctrl-C ends it.
func runNodeTranscript(t *testing.T, b readmeBlock) {
	testengine.NeedRoot(t, "c:run enters the container's namespaces")
	m := nodeRefRE.FindStringSubmatch(b.text)
	podRef, ctrName := m[1], m[2]
	pod := testcri.RunPod(t, testcri.Name("readme"))
	id := pod.Run(t, ctrName, testcri.BusyboxImage, "sh", "-c", "echo hello from the readme; exec sleep 1000")

	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = append(engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit.jsonl")),
		"CONTAINER_RUNTIME_ENDPOINT="+testcri.Endpoint(t), "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1")
	st := ptytest.Start(t, cmd)
	const prompt = `ctrsh> `
	st.Expect(prompt)
	for _, stmt := range b.shell {
		line := strings.ReplaceAll(stmt, `"`+podRef+`"`, `"`+pod.Name+`"`)
		line = strings.ReplaceAll(line, `"`+podRef+`/`, `"`+pod.Name+`/`)
		before := len(st.Output())
		st.Send(line + "\r")
		st.Expect(`\r\n`)
		if strings.HasPrefix(line, "for ") && !finishes(st, before, prompt, 1500*time.Millisecond) {
			if strings.Contains(line, "cri.events") {
				testcri.Stop(t, id, 0)
				st.Expect(regexp.QuoteMeta(ctrName) + `\tdie\t137`)
			}
			st.Send("\x03")
			st.Expect(`interrupted`)
		}
		st.Expect(prompt)
		out := st.Output()[before:]
		if i := strings.Index(out, "\n"); i >= 0 {
			out = out[i+1:]
		}
		if i := strings.LastIndex(out, prompt); i >= 0 {
			out = out[:i]
		}
		for _, bad := range []string{"stdin:", "error", "attempt to", "nil\t"} {
			if strings.Contains(out, bad) || strings.HasPrefix(out, "nil") {
				t.Errorf("README.md:%d: %s\nprinted %q", b.line, line, out)
			}
		}
		switch {
		case strings.Contains(line, "containers.list") || strings.HasPrefix(line, "c.pod") || strings.HasPrefix(line, "cri.pods"):
			if !strings.Contains(out, pod.Name) {
				t.Errorf("README.md:%d: %s\nprinted %q, want the pod %s", b.line, line, out, pod.Name)
			}
		case strings.Contains(line, "c:logs"):
			if !strings.Contains(out, "hello from the readme") {
				t.Errorf("README.md:%d: %s\nprinted %q, want the container's log line", b.line, line, out)
			}
		case strings.HasPrefix(line, "c:top"):
			// The shell prints the rows as a table: PID, then PID_INSIDE.
			if !regexp.MustCompile(`PID_INSIDE[\s\S]*\n\s*\d+\s+1\s`).MatchString(out) {
				t.Errorf("README.md:%d: %s\nprinted %q, want its init as PID 1 inside", b.line, line, out)
			}
		}
	}
	st.Send("\x04")
	if code := st.Wait(); code != 0 {
		t.Errorf("ctrsh exited %d", code)
	}
}
