package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// engineEnv is the environment of a ctrsh run against the test engine.
func engineEnv(t *testing.T, extra ...string) []string {
	return append(append(os.Environ(), "DOCKER_HOST="+testengine.Host(t), "CTRSH_LOCK_DIR="+t.TempDir()), extra...)
}

// startBusybox starts a named busybox container and waits until its init
// runs its command (not runc's init any more).
func startBusybox(t *testing.T, name string, args ...string) string {
	return startBusyboxWith(t, name, nil, args...)
}

// startBusyboxWith is startBusybox with more docker run options (-e K=V).
func startBusyboxWith(t *testing.T, name string, opts []string, args ...string) string {
	run := append([]string{"--name", name, "--hostname", name}, opts...)
	id := testengine.Run(t, append(append(run, testengine.BusyboxImage), args...)...)
	for i := 0; i < 100; i++ {
		pid := testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id)
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		if len(comm) > 0 && !strings.HasPrefix(string(comm), "runc") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return id
}

// The chapter's step, by container name.
func TestNsenterByName(t *testing.T) {
	name := fmt.Sprintf("web-%d", time.Now().UnixNano())
	startBusybox(t, name, "sleep", "1000")
	env := engineEnv(t)
	r := ctrshEnv(t, env, "", "nsenter", "-t", name, "-m", "-u", "-i", "-n", "-p", "--", "hostname")
	if r.code != 0 || r.stdout != name+"\n" {
		t.Errorf("nsenter hostname: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = ctrshEnv(t, env, "", "nsenter", "-t", name, "-a", "--", "ps")
	init := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "1" {
			init = strings.Join(f[2:], " ")
		}
	}
	if r.code != 0 || init != "sleep 1000" {
		t.Errorf("nsenter ps: exit %d, PID 1 %q, stdout %q, stderr %q", r.code, init, r.stdout, r.stderr)
	}
	r = ctrshEnv(t, env, "", "nsenter", "-t", "ctrsh-no-such-container", "--", "true")
	if r.code == 0 || !strings.Contains(r.stderr, `container "ctrsh-no-such-container": no such container`) {
		t.Errorf("unknown container: exit %d, stderr %q", r.code, r.stderr)
	}
}

// An enter from a playbook leaves a start and an end record in the audit
// log, with the playbook's name and sha256 and the invoking user.
func TestAuditOfEnterFromPlaybook(t *testing.T) {
	name := fmt.Sprintf("audited-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	initPID, _ := strconv.Atoi(testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id))
	dir := t.TempDir()
	pb := writePlaybook(t, dir, "enter-check.lua", `
local pb = playbook{description = "enter and report", args = {{name = "container"}}}
local c = assert(docker.container(pb.args.container))
local r = assert(c:enter{"hostname"})
emit{hostname = r.stdout:gsub("\n", ""), code = r.code}
`, 0o644)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := ctrshEnv(t, engineEnv(t, "CTRSH_AUDIT_FILE="+auditFile), "", "run", pb, name, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"hostname":"`+name+`"`) {
		t.Fatalf("playbook: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	f, err := os.Open(auditFile)
	if err != nil {
		t.Fatalf("no audit log: %v", err)
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", st.Mode().Perm())
	}
	src, _ := os.ReadFile(pb)
	var phases []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if rec["action"] != "enter" {
			continue
		}
		phases = append(phases, fmt.Sprint(rec["phase"]))
		if rec["playbook"] != "enter-check" || rec["sha256"] != sha256Hex(src) || rec["user"] == "" || !strings.Contains(fmt.Sprint(rec["subject"]), name) {
			t.Errorf("audit record %v", rec)
		}
		if rec["phase"] == "end" && rec["result"] != "ok" {
			t.Errorf("end record %v", rec)
		}
		// pid is ctrsh's, target_pid the container's init.
		if rec["target_pid"] != float64(initPID) || rec["pid"] == nil || rec["pid"] == rec["target_pid"] {
			t.Errorf("audit record pid %v, target_pid %v; want ctrsh's and %d", rec["pid"], rec["target_pid"], initPID)
		}
	}
	if strings.Join(phases, ",") != "start,end" {
		t.Errorf("enter records: %v, want start,end", phases)
	}
}
