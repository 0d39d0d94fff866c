package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/sshtest"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/scripts"
)

// fleetHosts starts sshd for hosts a and b on 127.0.0.1 (their own ports,
// host keys, known_hosts) and names a third host, c, whose port is closed.
// Each host's sessions get, through sshd's SetEnv, the test engine as
// DOCKER_HOST (the remote ctrsh is this machine's, run by sshd as root), an
// audit file and a lock directory of their own (two hosts, not one), and
// CTRSH_FLEET_TEST_HOST naming the host for playbooks that behave per host.
func fleetHosts(t *testing.T) *sshtest.Fleet {
	t.Helper()
	engine := testengine.Host(t)
	dir := t.TempDir()
	host := func(name string) *sshtest.Host {
		return &sshtest.Host{Name: name, Env: map[string]string{
			"DOCKER_HOST":           engine,
			"CTRSH_AUDIT_FILE":      filepath.Join(dir, name+"-audit.jsonl"),
			"CTRSH_LOCK_DIR":        filepath.Join(dir, name+"-locks"),
			"CTRSH_FLEET_TEST_HOST": name,
		}}
	}
	j := host("j") // behind a: reached with ProxyJump a
	j.ProxyJump = "a"
	return sshtest.Start(t, host("a"), host("b"), &sshtest.Host{Name: "c", Closed: true}, j)
}

// fleet runs ctrsh fleet with the test's ssh_config and the remote ctrsh
// being the binary under test.
func fleet(t *testing.T, f *sshtest.Fleet, args ...string) result {
	t.Helper()
	args = append(append([]string{"fleet"}, args...), "--ssh-config", f.Config, "--remote-ctrsh", ctrshBinary(t))
	return ctrshEnv(t, append(os.Environ(), "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit")), "", args...)
}

// jsonRows parses JSON lines; seconds (a duration) is dropped so that runs
// compare.
func jsonRows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON row: %q", line)
		}
		delete(m, "seconds")
		rows = append(rows, m)
	}
	return rows
}

// sortedRows is the rows as sorted JSON lines.
func sortedRows(rows []map[string]any) []string {
	var lines []string
	for _, r := range rows {
		b, _ := json.Marshal(r)
		lines = append(lines, string(b))
	}
	sort.Strings(lines)
	return lines
}

func rowsOf(rows []map[string]any, host string) (data []map[string]any, summary map[string]any) {
	for _, r := range rows {
		if r["host"] != host {
			continue
		}
		if r["fleet"] == "summary" {
			summary = r
		} else {
			data = append(data, r)
		}
	}
	return data, summary
}

// The acceptance: health on a, b and c (down): the rows of a and b
// with their host names, an error row for c; exit 3 when a container is
// unhealthy, 0 otherwise; --parallel 1 and 10 give the same rows.
func TestFleetRunHealth(t *testing.T) {
	f := fleetHosts(t)
	tag := fmt.Sprintf("fleet-%d", time.Now().UnixNano())
	okName, badName := tag+"-ok", tag+"-bad"
	testengine.Run(t, "--name", okName, "--label", "ctrsh.fleettest="+okName, testengine.BusyboxImage, "sleep", "1000")
	testengine.Run(t, "--name", badName, "--label", "ctrsh.fleettest="+badName,
		"--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1", "--health-start-period", "0s",
		testengine.BusyboxImage, "sleep", "1000")
	for i := 0; ; i++ {
		st := testengine.MustDocker(t, "inspect", "--format", "{{.State.Health.Status}}", badName)
		if st == "unhealthy" {
			break
		}
		if i > 150 {
			t.Fatalf("%s is %q after 30 s, not unhealthy", badName, st)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Healthy: every container with the label is fine on a and b; c is down.
	r := fleet(t, f, "run", "health", "--hosts", "a,b,c", "--label", "ctrsh.fleettest="+okName, "--json")
	if r.code != 0 {
		t.Fatalf("healthy fleet: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	rows := jsonRows(t, r.stdout)
	for _, h := range []string{"a", "b"} {
		data, sum := rowsOf(rows, h)
		if len(data) != 1 || data[0]["status"] != "ok" || data[0]["containers"] != float64(1) {
			t.Errorf("host %s: rows %v", h, data)
		}
		if sum == nil || sum["exit"] != float64(0) || sum["error"] != "" {
			t.Errorf("host %s: summary %v", h, sum)
		}
	}
	data, sum := rowsOf(rows, "c")
	if len(data) != 0 || sum == nil || sum["exit"] != float64(255) || !strings.Contains(fmt.Sprint(sum["error"]), "Connection refused") {
		t.Errorf("host c: rows %v, summary %v (want an error row: connection refused)", data, sum)
	}
	if !strings.Contains(r.stderr, "c: ssh: connect to host 127.0.0.1 port") {
		t.Errorf("stderr lacks c's ssh error with its host prefix: %q", r.stderr)
	}

	// Unhealthy: both hosts see the container (they share the engine).
	r = fleet(t, f, "run", "health", "--hosts", "a,b,c", "--label", "ctrsh.fleettest="+badName, "--json")
	if r.code != 3 {
		t.Fatalf("unhealthy fleet: exit %d, want 3\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	rows = jsonRows(t, r.stdout)
	for _, h := range []string{"a", "b"} {
		data, sum := rowsOf(rows, h)
		if len(data) != 1 || data[0]["container"] != badName || data[0]["problem"] != "unhealthy" {
			t.Errorf("host %s: rows %v", h, data)
		}
		if sum == nil || sum["exit"] != float64(3) || !strings.Contains(fmt.Sprint(sum["error"]), "need attention") {
			t.Errorf("host %s: summary %v", h, sum)
		}
	}

	// The same rows, one host at a time or all at once.
	one := fleet(t, f, "run", "health", "--hosts", "a,b,c", "--label", "ctrsh.fleettest="+badName, "--json", "--parallel", "1")
	ten := fleet(t, f, "run", "health", "--hosts", "a,b,c", "--label", "ctrsh.fleettest="+badName, "--json", "--parallel", "10")
	if one.code != 3 || ten.code != 3 {
		t.Errorf("exit codes %d and %d, want 3", one.code, ten.code)
	}
	r1, r10 := sortedRows(jsonRows(t, one.stdout)), sortedRows(jsonRows(t, ten.stdout))
	if strings.Join(r1, "\n") != strings.Join(r10, "\n") || len(r1) != 5 {
		t.Errorf("--parallel 1:\n%s\n--parallel 10:\n%s", strings.Join(r1, "\n"), strings.Join(r10, "\n"))
	}

	// A table off --json: the host column first, and a summary table.
	r = fleet(t, f, "run", "health", "--hosts", "a,b,c", "--label", "ctrsh.fleettest="+okName)
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || !strings.HasPrefix(lines[0], "HOST") || !strings.Contains(r.stdout, "\nHOST  EXIT  SECONDS  ERROR") ||
		!regexp.MustCompile(`\nc\s+255\s+[\d.]+\s+ssh: connect to host`).MatchString(r.stdout) {
		t.Errorf("table: exit %d\n%s", r.code, r.stdout)
	}

	// Each host's audit log has the run, with the playbook's sha256.
	src, _ := scripts.Source("health")
	for _, h := range []string{"a", "b"} {
		b, err := os.ReadFile(f.Hosts[h].Env["CTRSH_AUDIT_FILE"])
		if err != nil {
			t.Fatalf("host %s: %v", h, err)
		}
		if !strings.Contains(string(b), `"sha256":"`+sha256Hex(src)+`"`) || !strings.Contains(string(b), `"playbook":"health"`) ||
			!strings.Contains(string(b), `"ssh_connection":"127.0.0.1 `) {
			t.Errorf("host %s audit log:\n%s", h, b)
		}
	}
}

// A host behind a bastion (ProxyJump in the user's ssh_config) is reached
// through it: the system ssh applies the config, ctrsh adds nothing.
func TestFleetRunProxyJump(t *testing.T) {
	f := fleetHosts(t)
	accepted := func(h string) int {
		b, err := os.ReadFile(f.Hosts[h].Log)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "Accepted publickey")
	}
	before := accepted("a")
	r := fleet(t, f, "run", "health", "--hosts", "j", "--label", "ctrsh.fleettest=none-"+t.Name(), "--json")
	if r.code != 0 {
		t.Fatalf("fleet run through the jump host: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	data, sum := rowsOf(jsonRows(t, r.stdout), "j")
	if len(data) != 1 || data[0]["status"] != "ok" || sum == nil || sum["exit"] != float64(0) {
		t.Errorf("rows of j %v, summary %v: want health's one row", data, sum)
	}
	if b, err := os.ReadFile(f.Hosts["j"].Env["CTRSH_AUDIT_FILE"]); err != nil || !strings.Contains(string(b), `"playbook":"health"`) {
		t.Errorf("j's own audit log has no run of health (%v):\n%s", err, b)
	}
	if accepted("a") <= before {
		t.Errorf("a's server accepted no login for the jump: ProxyJump was not used")
	}
}

// The worst host decides the exit code: a finding over an error over
// success; a host that is down counts only when no host was reached.
func TestFleetRunWorstExit(t *testing.T) {
	f := fleetHosts(t)
	pb := writePlaybook(t, t.TempDir(), "per-host.lua", `
local h = os.getenv("CTRSH_FLEET_TEST_HOST")
emit{seen = h}
if h == "a" then fail("finding on a") end
if h == "b" then error("boom on b") end
`, 0o644)
	for _, tc := range []struct {
		hosts string
		code  int
	}{
		{"a,b,c", 3},
		{"b,c", 1},
		{"c", exitNoHost},
	} {
		r := fleet(t, f, "run", pb, "--hosts", tc.hosts, "--json")
		if r.code != tc.code {
			t.Errorf("hosts %s: exit %d, want %d\nstdout %s\nstderr %s", tc.hosts, r.code, tc.code, r.stdout, r.stderr)
		}
	}
	r := fleet(t, f, "run", pb, "--hosts", "a,b", "--json")
	rows := jsonRows(t, r.stdout)
	for h, want := range map[string]float64{"a": 3, "b": 1} {
		data, sum := rowsOf(rows, h)
		if len(data) != 1 || data[0]["seen"] != h || sum["exit"] != want {
			t.Errorf("host %s: rows %v summary %v", h, data, sum)
		}
	}
	if !strings.Contains(r.stderr, "b: ctrsh: ") || !strings.Contains(r.stderr, "boom on b") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// sshProcessesWith lists the ssh processes whose command line contains s.
func sshProcessesWith(s string) []string {
	var out []string
	for _, p := range processesWith(s) {
		if strings.HasPrefix(strings.SplitN(p, ": ", 2)[1], "ssh ") {
			out = append(out, p)
		}
	}
	return out
}

// processesWith lists the pids whose command line contains s.
func processesWith(s string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), s) {
			pids = append(pids, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return pids
}

// Ctrl-C stops every host: no ssh of the run is left, and the remote runs
// end too (their stdout went away with the connection).
func TestFleetRunInterrupt(t *testing.T) {
	f := fleetHosts(t)
	name := fmt.Sprintf("sleeper%d", time.Now().UnixNano())
	pb := writePlaybook(t, t.TempDir(), name+".lua", `emit{started = os.getenv("CTRSH_FLEET_TEST_HOST")}; sleep(300)`, 0o644)
	cmd := exec.Command(ctrshBinary(t), "fleet", "run", pb, "--hosts", "a,b", "--json", "--parallel", "10",
		"--ssh-config", f.Config, "--remote-ctrsh", ctrshBinary(t))
	cmd.Env = append(os.Environ(), "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	started := map[string]bool{}
	for len(started) < 2 && sc.Scan() {
		var m map[string]any
		json.Unmarshal(sc.Bytes(), &m)
		if s, ok := m["started"].(string); ok {
			started[s] = true
		}
	}
	if len(started) != 2 {
		t.Fatalf("rows before the interrupt: %v (stderr %s)", started, stderr.String())
	}
	if ssh := sshProcessesWith(f.Config); len(ssh) != 2 {
		t.Errorf("ssh processes of the run while it runs: %q, want 2", ssh)
	}
	cmd.Process.Signal(syscall.SIGINT)
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("ctrsh fleet run still running 15 s after SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130 (stderr %s)", code, stderr.String())
	}
	if ssh := sshProcessesWith(f.Config); len(ssh) != 0 {
		t.Errorf("ssh processes left after Ctrl-C: %q", ssh)
	}
	rows := jsonRows(t, rest.String())
	for _, h := range []string{"a", "b"} {
		if _, sum := rowsOf(rows, h); sum == nil || sum["exit"] != float64(130) {
			t.Errorf("host %s: summary %v, want exit 130", h, sum)
		}
	}
	// The remote runs see their stdout go and stop (exit 129, audited).
	deadline := time.Now().Add(10 * time.Second)
	for len(processesWith("--playbook-name "+name)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("remote runs still there 10 s after Ctrl-C: %q", processesWith("--playbook-name "+name))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fleet push copies the binary to each host: checked, 0755, renamed into
// place, nothing left behind; a host that is down is a row.
func TestFleetPush(t *testing.T) {
	f := fleetHosts(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "bin", "ctrsh")
	os.MkdirAll(filepath.Dir(target), 0o755)
	os.WriteFile(target, []byte("old"), 0o755)
	bin := ctrshBinary(t)
	r := ctrshEnv(t, nil, "", "fleet", "push", "--hosts", "a,b,c", "--binary", bin, "--remote-ctrsh", target,
		"--ssh-config", f.Config, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	want, _ := os.ReadFile(bin)
	rows := jsonRows(t, r.stdout)
	for _, h := range []string{"a", "b"} {
		data, sum := rowsOf(rows, h)
		if len(data) != 1 || data[0]["sha256"] != sha256Hex(want) || data[0]["path"] != target || sum["exit"] != float64(0) {
			t.Errorf("host %s: rows %v summary %v", h, data, sum)
		}
	}
	if _, sum := rowsOf(rows, "c"); sum == nil || sum["exit"] != float64(255) {
		t.Errorf("host c: summary %v", sum)
	}
	got, err := os.ReadFile(target)
	st, _ := os.Stat(target)
	if err != nil || sha256Hex(got) != sha256Hex(want) || st.Mode().Perm() != 0o755 {
		t.Errorf("pushed file: %v, mode %v, same %v", err, st.Mode(), sha256Hex(got) == sha256Hex(want))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "bin", ".ctrsh.push.*")); len(left) != 0 {
		t.Errorf("temporary copies left: %v", left)
	}
	if out, err := exec.Command(target, "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ctrsh ") {
		t.Errorf("the pushed binary: %v %s", err, out)
	}
}

// The per-host timeout reaches the remote run, which stops itself (124)
// and still sends what it had; the other host is not held up.
func TestFleetRunTimeout(t *testing.T) {
	f := fleetHosts(t)
	pb := writePlaybook(t, t.TempDir(), "slow-on-a.lua", `
local h = os.getenv("CTRSH_FLEET_TEST_HOST")
emit{host_seen = h}
if h == "a" then sleep(300) end
`, 0o644)
	start := time.Now()
	r := fleet(t, f, "run", pb, "--hosts", "a,b", "--timeout", "2s", "--json")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
	if r.code != 124 {
		t.Errorf("exit %d, want 124\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	rows := jsonRows(t, r.stdout)
	for h, want := range map[string]float64{"a": 124, "b": 0} {
		data, sum := rowsOf(rows, h)
		if len(data) != 1 || data[0]["host_seen"] != h || sum["exit"] != want {
			t.Errorf("host %s: rows %v summary %v", h, data, sum)
		}
	}
}
