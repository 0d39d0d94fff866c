package scripts_test

// The bundled playbooks on a Kubernetes node: no Docker (DOCKER_HOST unset,
// no Docker socket), the private containerd with its CRI plugin
// (fixtures/cri.sh) found through CONTAINER_RUNTIME_ENDPOINT. Each playbook
// that applies runs unchanged against a pod's container and prints the
// same columns as against a Docker container.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/ctrsh/ctrsh/fixtures/testcri"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// dockerSocket is where a Docker Engine's socket would be found by default.
const dockerSocket = "/var/run/docker.sock"

// nodeEnv is the environment of a run on the node: env's, without
// DOCKER_HOST, with the CRI runtime's endpoint.
func nodeEnv(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, kv := range env(t) {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "DOCKER_HOST", "CONTAINER_RUNTIME_ENDPOINT":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "CONTAINER_RUNTIME_ENDPOINT="+testcri.Endpoint(t))
}

// nodeCommand is ctrsh run ARGS on the node. When this host has a Docker
// socket, the run gets a private mount namespace with /dev/null over it,
// so that it sees none.
func nodeCommand(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return nodeCtrsh(ctx, t, append([]string{"run"}, args...)...)
}

// nodeCtrsh is ctrsh ARGS on the node (see nodeCommand).
func nodeCtrsh(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	argv := append([]string{ctrshBinary(t)}, args...)
	if _, err := os.Stat(dockerSocket); err == nil {
		argv = append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind /dev/null "$0" && exec "$@"`, dockerSocket}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = nodeEnv(t)
	return cmd
}

// nodeMustRun is mustRun on the node.
func nodeMustRun(t *testing.T, want int, args ...string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := nodeCommand(ctx, t, append(args, "--json")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code, err := exitCode(cmd.Run())
	if err != nil || ctx.Err() != nil {
		t.Fatalf("ctrsh run %s on the node: %v %v", strings.Join(args, " "), err, ctx.Err())
	}
	if code != want {
		t.Fatalf("ctrsh run %s --json on the node: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return records(t, stdout.String())
}

// columns is the sorted union of the records' keys.
func columns(recs []map[string]any) []string {
	set := map[string]bool{}
	for _, r := range recs {
		for k := range r {
			set[k] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sameColumns checks that both runs printed records, with the same columns.
func sameColumns(t *testing.T, docker, node []map[string]any) {
	t.Helper()
	if len(docker) == 0 || len(node) == 0 {
		t.Fatalf("records: %d on Docker, %d on the node; want some on both\nDocker: %v\nnode: %v", len(docker), len(node), docker, node)
	}
	if d, n := columns(docker), columns(node); !slices.Equal(d, n) {
		t.Errorf("columns on Docker %v, on the node %v", d, n)
	}
}

// podContainer runs a pod with one container, app, running cmd in busybox.
func podContainer(t *testing.T, cmd string) (pod *testcri.Pod, id, ref string) {
	t.Helper()
	pod = testcri.RunPod(t, testcri.Name("pb"))
	id = pod.Run(t, "app", testcri.BusyboxImage, "sh", "-c", cmd)
	return pod, id, pod.Name + "/app"
}

// waitNodeLogs waits until the log file of the pod's container holds marker.
func waitNodeLogs(t *testing.T, pod *testcri.Pod, marker string) {
	t.Helper()
	waitFor(t, "the log of "+pod.Name, 30*time.Second, func() (bool, error) {
		b, err := os.ReadFile(filepath.Join(pod.LogDir, "app", "0.log"))
		return bytes.Contains(b, []byte(marker)), err
	})
}

func TestPlaybooksOnNode(t *testing.T) {
	testcri.Endpoint(t)
	testengine.Host(t)

	t.Run("pidmap", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("pidmap")
		testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "sleep 1000 & sleep 1000")
		_, _, ref := podContainer(t, "sleep 1000 & sleep 1000")
		var node []map[string]any
		waitFor(t, "two sleeps in "+ref, 30*time.Second, func() (bool, error) {
			node = nodeMustRun(t, 0, "pidmap", ref)
			n := 0
			for _, r := range node {
				if r["cmd"] == "sleep 1000" {
					n++
				}
			}
			return n == 2, nil
		})
		var docker []map[string]any
		waitFor(t, "two sleeps in "+name, 30*time.Second, func() (bool, error) {
			docker = mustRun(t, 0, "pidmap", name)
			return len(docker) == 2, nil
		})
		sameColumns(t, docker, node)
		insides := map[float64]bool{}
		for _, r := range node {
			if r["container"] != "app" {
				t.Errorf("record %v: container is not app", r)
			}
			insides[num(t, r, "pid_inside")] = true
		}
		if !insides[1] {
			t.Errorf("no process is PID 1 inside: %v", node)
		}
	})

	t.Run("zombies", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("zombie")
		testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "sleep 0.1 & exec sleep 1000")
		_, _, ref := podContainer(t, "sleep 0.1 & exec sleep 1000")
		var node []map[string]any
		waitFor(t, "a zombie in "+ref, 30*time.Second, func() (bool, error) {
			node = nodeMustRun(t, 0, "zombies", ref)
			return len(node) > 0, nil
		})
		var docker []map[string]any
		waitFor(t, "a zombie in "+name, 30*time.Second, func() (bool, error) {
			docker = mustRun(t, 0, "zombies", name)
			return len(docker) > 0, nil
		})
		sameColumns(t, docker, node)
		if len(node) != 1 || node[0]["comm"] != "sleep" || num(t, node[0], "ppid_inside") != 1 {
			t.Errorf("zombies on the node: %v, want the sleep whose parent is PID 1", node)
		}
	})

	t.Run("inspect-ns", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("ns")
		testengine.Run(t, "--name", name, testengine.BusyboxImage, "sleep", "1000")
		_, _, ref := podContainer(t, "sleep 1000")
		node := nodeMustRun(t, 0, "inspect-ns", ref)
		sameColumns(t, mustRun(t, 0, "inspect-ns", name), node)
		// A hostNetwork pod shares the host's network namespace.
		for _, r := range node {
			if r["ns"] == "net" && !strings.Contains(str(r["shared_with"]), "host") {
				t.Errorf("net of a pod in the node's network: %v, want shared with the host", r)
			}
		}
	})

	t.Run("env-audit", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("env")
		testengine.Run(t, "--name", name, "-e", "DB_PASSWORD=hunter2hunter2", testengine.BusyboxImage, "sleep", "1000")
		pod := testcri.RunPod(t, testcri.Name("pb"))
		pod.RunConfig(t, &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
			Image:    &runtimeapi.ImageSpec{Image: testcri.BusyboxImage},
			Command:  []string{"sleep", "1000"},
			Envs:     []*runtimeapi.KeyValue{{Key: "DB_PASSWORD", Value: []byte("hunter2hunter2")}, {Key: "HOME_DIR", Value: []byte("/x")}},
		})
		node := nodeMustRun(t, 0, "env-audit", "--container", pod.Name+"/app")
		sameColumns(t, mustRun(t, 0, "env-audit", "--container", name), node)
		if len(node) != 1 || node[0]["name"] != "DB_PASSWORD" || strings.Contains(str(node[0]["value"]), "hunter2") {
			t.Errorf("env-audit on the node: %v, want DB_PASSWORD masked", node)
		}
	})

	t.Run("log-errors", func(t *testing.T) {
		t.Parallel()
		cmd := `echo starting; echo "error: disk full"; echo "FATAL boom" >&2; echo done-marker; sleep 1000`
		name := uniqueName("logs")
		testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", cmd)
		pod, _, ref := podContainer(t, cmd)
		waitLogsOn(t, testengine.Default, name, "done-marker")
		waitNodeLogs(t, pod, "done-marker")
		node := nodeMustRun(t, 0, "log-errors", "--container", ref)
		sameColumns(t, mustRun(t, 0, "log-errors", "--container", name), node)
		var got []string
		for _, r := range node {
			got = append(got, str(r["stream"])+" "+str(r["line"]))
		}
		sort.Strings(got)
		if want := []string{"stderr FATAL boom", "stdout error: disk full"}; !slices.Equal(got, want) {
			t.Errorf("log-errors on the node: %q, want %q", got, want)
		}
	})

	t.Run("diag-bundle", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("diag")
		testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "echo hello-diag; sleep 1000")
		pod, _, ref := podContainer(t, "echo hello-diag; sleep 1000")
		waitLogsOn(t, testengine.Default, name, "hello-diag")
		waitNodeLogs(t, pod, "hello-diag")
		dir := filepath.Join(t.TempDir(), "node")
		node := nodeMustRun(t, 0, "diag-bundle", ref, dir)
		sameColumns(t, mustRun(t, 0, "diag-bundle", name, filepath.Join(t.TempDir(), "docker")), node)
		for _, f := range []string{"inspect.json", "stats.json", "top.json", "ns.json", "cgroup.json", "logs.txt"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				errFile, _ := os.ReadFile(filepath.Join(dir, f+".error"))
				t.Errorf("diag-bundle on the node: %s: %v (%s)", f, err, errFile)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "logs.txt")); !bytes.Contains(b, []byte("stdout hello-diag")) {
			t.Errorf("logs.txt: %q", b)
		}
	})

	t.Run("top-mem-cpu-health", func(t *testing.T) {
		t.Parallel()
		label := "ctrsh.case=" + uniqueName("top")
		testengine.Run(t, "--label", label, testengine.BusyboxImage, "sleep", "1000")
		pod, _, _ := podContainer(t, "sleep 1000")
		podLabel := "io.kubernetes.pod.name=" + pod.Name
		for _, pb := range [][]string{{"top-mem"}, {"top-cpu", "--interval", "0.5"}, {"health"}} {
			node := nodeMustRun(t, 0, append(pb, "--label", podLabel)...)
			sameColumns(t, mustRun(t, 0, append(pb, "--label", label)...), node)
			if pb[0] != "health" && (len(node) != 1 || node[0]["container"] != "app") {
				t.Errorf("%s on the node: %v, want the pod's container", pb[0], node)
			}
		}
	})

	t.Run("restart-loop", func(t *testing.T) {
		t.Parallel()
		label := "ctrsh.case=" + uniqueName("restart")
		testengine.Run(t, "--label", label, "--restart", "always", testengine.BusyboxImage, "sh", "-c", "echo dying; exit 3")
		// The kubelet restarts a container as a new attempt of the same name.
		pod := testcri.RunPod(t, testcri.Name("pb"))
		rt := testcri.Client(t)
		for range 3 {
			id := pod.Run(t, "app", testcri.BusyboxImage, "sh", "-c", "echo dying; exit 3")
			waitFor(t, "attempt "+id[:12]+" to exit", 30*time.Second, func() (bool, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				st, err := rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
				return err == nil && st.GetStatus().GetState() == runtimeapi.ContainerState_CONTAINER_EXITED, err
			})
		}
		var docker []map[string]any
		waitFor(t, "three restarts on Docker", 60*time.Second, func() (bool, error) {
			docker = nil
			r := ctrsh(t, "restart-loop", "--min", "2", "--label", label, "--json")
			if r.code == 0 {
				docker = records(t, r.stdout)
			}
			return len(docker) == 1, nil
		})
		node := nodeMustRun(t, 0, "restart-loop", "--min", "2", "--label", "io.kubernetes.pod.name="+pod.Name)
		sameColumns(t, docker, node)
		if len(node) != 1 || num(t, node[0], "restart_count") != 2 || num(t, node[0], "exit_code") != 3 ||
			node[0]["last_exit_codes"] != "3,3,3" || node[0]["last_line"] != "dying" {
			t.Errorf("restart-loop on the node: %v, want the newest attempt (2), exit 3, codes 3,3,3, last line dying", node)
		}
	})

	t.Run("trace-exec-connect", func(t *testing.T) {
		testengine.NeedRoot(t, "tracing")
		t.Parallel()
		// The pod is in the node's network: its own port, not the Docker container's.
		port := fmt.Sprint(20000 + os.Getpid()%20000)
		loop := "httpd -f -p 127.0.0.1:%s -h /etc & while true; do /bin/ls / >/dev/null; wget -q -O /dev/null http://127.0.0.1:%s/hostname; sleep 0.2; done"
		name := uniqueName("trace")
		testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", fmt.Sprintf(loop, "8080", "8080"))
		_, _, ref := podContainer(t, fmt.Sprintf(loop, port, port))
		for _, pb := range []string{"trace-exec", "trace-connect"} {
			node := nodeMustRun(t, 0, pb, ref, "--for", "2s")
			sameColumns(t, mustRun(t, 0, pb, name, "--for", "2s"), node)
			for _, r := range node {
				if r["container"] != "app" {
					t.Errorf("%s on the node: record of another container: %v", pb, r)
				}
			}
		}
		// Every container: the pod's are named by their runtime too.
		named := false
		for _, r := range nodeMustRun(t, 0, "trace-exec", "--for", "2s") {
			named = named || (r["container"] == "app" && fmt.Sprint(r["argv"]) == "[/bin/ls /]")
		}
		if !named {
			t.Errorf("trace-exec of every container on the node: no exec of /bin/ls / named app")
		}
	})

	t.Run("oomwatch", func(t *testing.T) {
		t.Parallel()
		oomCmd := "sleep 2; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100000"
		name := uniqueName("oomwatch")
		args := []string{"oomwatch", "--dir", t.TempDir(), "--json"}
		docker := watchFor(t, false, args, func() { // on Docker
			testengine.Run(t, "--name", name, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage, "sh", "-c", oomCmd)
		}, func(r map[string]any) bool { return r["container"] == name })
		var pod *testcri.Pod
		args = []string{"oomwatch", "--dir", t.TempDir(), "--json"}
		node := watchFor(t, true, args, func() {
			pod = testcri.RunPod(t, testcri.Name("oom"))
			pod.RunConfig(t, &runtimeapi.ContainerConfig{
				Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
				Image:    &runtimeapi.ImageSpec{Image: testcri.BusyboxImage},
				Command:  []string{"sh", "-c", oomCmd},
				Linux: &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{
					MemoryLimitInBytes: 32 << 20, MemorySwapLimitInBytes: 32 << 20,
				}},
			})
		}, func(r map[string]any) bool { return r["container"] == "app" })
		sameColumns(t, []map[string]any{docker}, []map[string]any{node})
		if node["source"] != "cgroup" || num(t, node, "oom_kills") < 1 {
			t.Errorf("oomwatch on the node: %v, want source cgroup and oom_kills >= 1", node)
		}
	})
}

// TestOOMVictimsOnNode: oom-victims names the victim of the deterministic
// OOM of a non-PID-1 process in a pod's container, with the columns it has
// on Docker.
func TestOOMVictimsOnNode(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	testcri.Endpoint(t)
	wait := "while [ ! -f /tmp/go ]; do sleep 0.1; done; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); exec sleep 100000"
	name := uniqueName("oom-victims")
	testengine.Run(t, "--name", name, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage, "sh", "-c", wait)
	docker := watchFor(t, false, []string{"oom-victims", name, "--for", "90s", "--json"}, func() {
		testengine.MustDocker(t, "exec", name, "touch", "/tmp/go")
	}, func(r map[string]any) bool { return r["comm"] == "tail" })

	pod := testcri.RunPod(t, testcri.Name("oomv"))
	id := pod.RunConfig(t, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image:    &runtimeapi.ImageSpec{Image: testcri.BusyboxImage},
		Command:  []string{"sh", "-c", wait},
		Linux: &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{
			MemoryLimitInBytes: 32 << 20, MemorySwapLimitInBytes: 32 << 20,
		}},
	})
	node := watchFor(t, true, []string{"oom-victims", pod.Name + "/app", "--for", "90s", "--json"}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := testcri.Client(t).ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"touch", "/tmp/go"}, Timeout: 20})
		if err != nil || r.ExitCode != 0 {
			t.Fatalf("touch /tmp/go in %s: %v %v", pod.Name, err, r)
		}
	}, func(r map[string]any) bool { return r["comm"] == "tail" })
	sameColumns(t, []map[string]any{docker}, []map[string]any{node})
	if node["container"] != "app" || num(t, node, "oom_score_adj") != 1000 || num(t, node, "pid_inside") <= 1 ||
		!strings.Contains(str(node["memcg"]), id) {
		t.Errorf("oom-victims on the node: %v, want container app, oom_score_adj 1000, a pid inside above 1, memcg naming %s", node, id)
	}
}

// TestTimelineOnNode: a journal recorded on the node (no Docker) holds a
// pod container's death with its exit code and the log line before it,
// and timeline shows them with the columns it has on Docker.
func TestTimelineOnNode(t *testing.T) {
	testengine.NeedRoot(t, "ctrsh journal record reads cgroups and /dev/kmsg")
	testcri.Endpoint(t)
	died := func(recs []map[string]any) map[string]any {
		for i, r := range recs {
			if with, _ := r["with"].(map[string]any); r["event"] == "died" && with["exit_code"] == float64(3) &&
				i > 0 && recs[i-1]["event"] == "log" && recs[i-1]["what"] == "dying" {
				return r
			}
		}
		return nil
	}
	dockerDB := startJournal(t)
	name := uniqueName("timeline")
	testengine.Run(t, "--name", name, testengine.BusyboxImage, "sh", "-c", "echo dying; sleep 1; exit 3")
	var docker []map[string]any
	waitFor(t, name+"'s death in the timeline", 60*time.Second, func() (bool, error) {
		docker = mustRun(t, 0, "timeline", name, "--since", "10m", "--journal", dockerDB)
		return died(docker) != nil, nil
	})

	nodeDB := startNodeJournal(t)
	_, _, ref := podContainer(t, "echo dying; sleep 1; exit 3")
	var node []map[string]any
	waitFor(t, ref+"'s death in the timeline on the node", 60*time.Second, func() (bool, error) {
		node = nodeMustRun(t, 0, "timeline", ref, "--since", "10m", "--journal", nodeDB)
		return died(node) != nil, nil
	})
	sameColumns(t, docker, node)
	if r := died(node); !strings.Contains(str(r["what"]), "exit code 3") {
		t.Errorf("death on the node: %v, want exit code 3", r)
	}
}

// startNodeJournal is startJournal on the node: ctrsh journal record with
// no Docker engine, the CRI runtime only.
func startNodeJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	cmd := nodeCtrsh(context.Background(), t, "journal", "record", "--db", path, "--sample", "1s")
	var stderr traceOutput
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("ctrsh journal record on the node said:\n%s", stderr.String())
		}
	})
	waitFor(t, "the journal recording on the node", 30*time.Second, func() (bool, error) {
		return strings.Contains(stderr.String(), "recording"), nil
	})
	return path
}

// watchFor runs a watching playbook (ctrsh run ARGS, on the node or on
// Docker), calls start once it says it is watching, and returns its first
// record that match accepts.
func watchFor(t *testing.T, onNode bool, args []string, start func(), match func(map[string]any) bool) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var cmd *exec.Cmd
	if onNode {
		cmd = nodeCommand(ctx, t, args...)
	} else {
		cmd = exec.CommandContext(ctx, ctrshBinary(t), append([]string{"run"}, args...)...)
		cmd.Env = env(t)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var mu sync.Mutex
	var errText strings.Builder
	watching := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		var once sync.Once
		for sc.Scan() {
			mu.Lock()
			errText.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "watching") {
				once.Do(func() { close(watching) })
			}
		}
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	said := func() string { mu.Lock(); defer mu.Unlock(); return errText.String() }
	select {
	case <-watching:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start watching in 30 s; stderr %q", args[0], said())
	}
	start()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("%s ended early; stderr %q", args[0], said())
			}
			for _, r := range records(t, line) {
				if match(r) {
					return r
				}
			}
		case <-timeout:
			t.Fatalf("no %s record in 60 s; stderr %q", args[0], said())
		}
	}
}
