package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `ctrsh run -` runs the playbook on stdin with its arguments and writes
// its name and the sha256 of the text received to the audit log, before
// the run and with its exit code after.
func TestRunStdinPlaybook(t *testing.T) {
	src := `local pb = playbook{description = "from stdin", args = {{name = "who"}}}
emit{hello = pb.args.who}
fail("found something")
`
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	env := append(os.Environ(), "CTRSH_AUDIT_FILE="+auditFile, "CTRSH_LOCK_DIR="+t.TempDir())
	r := ctrshEnv(t, env, src, "run", "-", "--json", "--playbook-name", "greet", "world")
	if r.code != 3 || r.stdout != `{"hello":"world"}`+"\n" || !strings.Contains(r.stderr, "found something") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["action"] != "playbook" {
			continue
		}
		if rec["playbook"] != "greet" || rec["sha256"] != sha256Hex([]byte(src)) || rec["origin"] != "stdin" {
			t.Errorf("audit record %v", rec)
		}
		phases = append(phases, rec["phase"].(string))
		if rec["phase"] == "end" && rec["code"] != float64(3) {
			t.Errorf("end record %v", rec)
		}
	}
	if strings.Join(phases, ",") != "start,end" {
		t.Errorf("audit phases %v, want start,end", phases)
	}

	for _, tc := range []struct {
		args []string
		src  string
		code int
		err  string
	}{
		{[]string{"run", "-", "--playbook-name", "../../etc/x"}, "emit{}", 64, "--playbook-name"},
		{[]string{"run", "-"}, "x = = 1", 65, ""},
		{[]string{"run", "-", "--json"}, `emit{name = arg[0]}`, 0, ""},
	} {
		r := ctrshEnv(t, env, tc.src, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.err) {
			t.Errorf("%q: exit %d, stderr %q", tc.args, r.code, r.stderr)
		}
		if tc.code == 0 && r.stdout != `{"name":"stdin"}`+"\n" {
			t.Errorf("%q: stdout %q", tc.args, r.stdout)
		}
	}
}

// As root, a playbook from stdin requires modules only from the playbook
// directories, never from the current directory.
func TestRunStdinRequireNotFromCwd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the require rules differ for non-root users")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "evil.lua"), []byte(`return "EVIL-MODULE-RAN"`), 0o644)
	cmd := exec.Command(ctrshBinary(t), "run", "-", "--no-lock")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CTRSH_AUDIT_FILE="+filepath.Join(dir, "audit"), "CTRSH_PLAYBOOK_DIR="+filepath.Join(dir, "none"))
	cmd.Stdin = strings.NewReader(`print(require("evil"))`)
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "EVIL-MODULE-RAN") || !strings.Contains(string(out), "not searched as root") {
		t.Errorf("require from the current directory: %v %s", err, out)
	}
}

// When nobody reads its stdout any more (the ssh connection of a fleet run
// went), `ctrsh run -` stops as on a hangup instead of running on.
func TestRunStdinStopsWhenStdoutCloses(t *testing.T) {
	cmd := exec.Command(ctrshBinary(t), "run", "-", "--json")
	cmd.Env = append(os.Environ(), "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"), "CTRSH_LOCK_DIR="+t.TempDir())
	cmd.Stdin = strings.NewReader(`emit{started = true}; sleep(60); emit{done = true}`)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != `{"started":true}`+"\n" {
		t.Fatalf("first row %q %v", line, err)
	}
	start := time.Now()
	pr.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 129 {
			t.Errorf("after its reader went: %v, want exit 129 (stderr %q)", err, stderr.String())
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("it took %s to stop", d)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 20 s after its stdout was closed (stderr %q)", stderr.String())
	}
}

// The hand-written name checks agree with the regular expressions they
// replaced, on every string.
var oldNameREs = []struct {
	name  string
	check func(string) bool
	re    *regexp.Regexp
}{
	{"validStdinName", validStdinName, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)},
	{"validContainerName", validContainerName, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$`)},
	{"validPushPath", validPushPath, regexp.MustCompile(`^/[A-Za-z0-9._+/-]+$`)},
	{"isCapName", isCapName, regexp.MustCompile(`^[A-Z_]+$`)},
}

// nameSeeds are names of every shape those checks see, and near misses.
func nameSeeds() []string {
	seeds := []string{"", "a", "/", "//", "/a", "a/", "a/b", "a/b/c", "/usr/local/bin/ctrsh", "/opt/c++/x-1.2_3",
		"web", "pod/web", "_web", ".web", "-web", "web-1.a_b", "pod/_web", "a b", "a\n", "é", "a\xff", "SYS_ADMIN", "sys_admin",
		"CAP_X", "_", "A1", "stdin", "x;rm -rf", "$(id)"}
	for _, n := range []int{63, 64, 65} {
		seeds = append(seeds, strings.Repeat("a", n), "/"+strings.Repeat("b", n))
	}
	return seeds
}

// checkNameChecks compares every check of s with its regular expression.
func checkNameChecks(t *testing.T, s string) {
	t.Helper()
	for _, c := range oldNameREs {
		if got, want := c.check(s), c.re.MatchString(s); got != want {
			t.Errorf("%s(%q) = %v; want %v", c.name, s, got, want)
		}
	}
}

func TestNameChecks(t *testing.T) {
	for _, s := range nameSeeds() {
		checkNameChecks(t, s)
	}
}

func FuzzNameChecks(f *testing.F) {
	for _, s := range nameSeeds() {
		f.Add(s)
	}
	f.Fuzz(checkNameChecks)
}
