package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testcri"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// ctrsh top shows a Kubernetes node's containers (the CRI runtime) beside
// the Docker Engine's: runtime containerd, its pod, its figures.
func TestTopOnANode(t *testing.T) {
	testengine.Host(t)
	pod := testcri.RunPod(t, testcri.Name("top"))
	id := pod.Run(t, "app", testcri.BusyboxImage, "sh", "-c", "echo hello-from-pod; dd if=/dev/zero of=/dev/shm/fill bs=1M count=16 2>/dev/null; exec sleep 1000")
	env := engineEnv(t, "CONTAINER_RUNTIME_ENDPOINT="+testcri.Endpoint(t))
	var row map[string]any
	var r result
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r = ctrshEnv(t, env, "", "top", "--json", "--interval", "200ms", "--filter", pod.Name)
		row = nil
		if lines := strings.Fields(r.stdout); r.code == 0 && len(lines) == 1 {
			json.Unmarshal([]byte(lines[0]), &row)
		}
		if row != nil && row["mem_usage"].(float64) >= 16<<20 {
			break
		}
	}
	if row == nil {
		t.Fatalf("ctrsh top --filter %s: exit %d, stdout %q, stderr %q", pod.Name, r.code, r.stdout, r.stderr)
	}
	if row["id"] != id || row["name"] != "app" || row["pod"] != testcri.Namespace+"/"+pod.Name || row["runtime"] != "containerd" ||
		row["pid"].(float64) <= 0 || row["mem_usage"].(float64) < 16<<20 || row["pids"] != 1.0 {
		t.Errorf("the pod's container: %v", row)
	}
	// The table names the pod; the Docker Engine's containers are there too.
	r = ctrshEnv(t, env, "", "top", "--interval", "200ms")
	header := strings.Fields(strings.SplitN(r.stdout, "\n", 2)[0])
	if r.code != 0 || !strings.Contains(r.stdout, testcri.Namespace+"/"+pod.Name) || len(header) < 2 || header[1] != "POD" {
		t.Errorf("ctrsh top: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Enter: its processes and its log line, through the CRI.
	cmd := exec.Command(ctrshBinary(t), "top", "--filter", pod.Name)
	cmd.Env = append(env, "TERM=xterm", "NO_COLOR=1")
	st := ptytest.Start(t, cmd)
	st.Expect(`1 containers \(docker\+containerd\)`)
	st.Send("\r")
	st.Expect(`sleep 1000`)
	st.Expect(`hello-from-pod`)
	st.Send("q")
	if code := st.Wait(); code != 0 {
		t.Errorf("q: exit %d", code)
	}
}

// Completion offers a pod's container as POD/NAME, the reference ctrsh
// nsenter -t takes.
func TestCompletionPodContainer(t *testing.T) {
	pod := testcri.RunPod(t, testcri.Name("compl"))
	pod.Run(t, "app", testcri.BusyboxImage, "sleep", "1000")
	env := append(completionEnv(t), "CONTAINER_RUNTIME_ENDPOINT="+testcri.Endpoint(t))
	script := `source <(ctrsh completion bash); COMP_WORDS=(ctrsh nsenter -t ` + pod.Name[:8] + `); COMP_CWORD=3; _ctrsh; printf '%s\n' "${COMPREPLY[@]}"`
	if got := strings.Fields(shellOut(t, env, "bash", "-c", script)); !contains(got, pod.Name+"/app") {
		t.Errorf("ctrsh nsenter -t %s<TAB>: %q, want %s/app", pod.Name[:8], got, pod.Name)
	}
}
