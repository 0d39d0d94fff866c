package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"health", "health"},
		{"/usr/local/bin/ctrsh", "/usr/local/bin/ctrsh"},
		{"--label=app=web", "--label=app=web"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(reboot)", "'$(reboot)'"},
		{"`id`", "'`id`'"},
		{"a;b", "'a;b'"},
		{"x\ny", "'x\ny'"},
		{"~root", "'~root'"},
		{"=ls", "'=ls'"},
		{"*", "'*'"},
		{"-", "-"},
	} {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// What shellJoin builds, a real sh splits back into the same words.
func TestShellJoinRoundTrip(t *testing.T) {
	words := []string{"plain", "", "two words", "it's", `"dq"`, "$HOME", "`id`", "a\nb", "\\", "~", "=x", "*", "semi;colon", "ünï", "--label=a b"}
	script := `set -- ` + shellJoin(words) + `; for w; do printf '%s\0' "$w"; done`
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !reflect.DeepEqual(got, words) {
		t.Errorf("sh split %q into\n%q, want\n%q", shellJoin(words), got, words)
	}
}

func TestRemoteCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    remoteRun
		want string
	}{
		{"plain", remoteRun{ctrsh: "/usr/local/bin/ctrsh", playbook: "health"},
			"/usr/local/bin/ctrsh run - --json --playbook-name health"},
		{"args quoted", remoteRun{ctrsh: "/opt/ctrsh", playbook: "log-errors", args: []string{"web 1", "--grep", "a|b"}},
			"/opt/ctrsh run - --json --playbook-name log-errors 'web 1' --grep 'a|b'"},
		{"timeout and safe", remoteRun{ctrsh: "ctrsh", playbook: "health", timeout: 90 * time.Second, safe: true, args: []string{"--label", "app=web"}},
			"ctrsh run - --json --playbook-name health --timeout 1m30s --safe --label app=web"},
		{"sudo", remoteRun{ctrsh: "/usr/local/bin/ctrsh", sudo: true, playbook: "health"},
			"sudo -n -- /usr/local/bin/ctrsh run - --json --playbook-name health"},
		{"path with space", remoteRun{ctrsh: "/opt/my tools/ctrsh", playbook: "x"},
			"'/opt/my tools/ctrsh' run - --json --playbook-name x"},
		{"hostile arg", remoteRun{ctrsh: "ctrsh", playbook: "x", args: []string{"$(touch /tmp/pwned)'"}},
			`ctrsh run - --json --playbook-name x '$(touch /tmp/pwned)'\'''`},
	} {
		if got := remoteCommand(tc.r); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestBuildSSHCommand(t *testing.T) {
	base := []string{"-o", "BatchMode=yes"}
	tail := []string{"-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		o    sshOptions
		host string
		want []string
	}{
		{"defaults", sshOptions{connectTimeout: 10 * time.Second}, "web1",
			cat([]string{"ssh", "-T", "-a", "-x"}, base, tail, []string{"--", "web1", "REMOTE"})},
		{"config and options", sshOptions{configFile: "/etc/fleet.conf", options: []string{"ProxyJump=bastion", "ConnectTimeout=3"}, connectTimeout: 10 * time.Second}, "root@10.0.0.7",
			cat([]string{"ssh", "-T", "-a", "-x"}, base, []string{"-F", "/etc/fleet.conf", "-o", "ProxyJump=bastion", "-o", "ConnectTimeout=3"}, tail, []string{"--", "root@10.0.0.7", "REMOTE"})},
		{"sub-second timeout", sshOptions{connectTimeout: 0}, "h",
			cat([]string{"ssh", "-T", "-a", "-x"}, base, tail, []string{"--", "h", "REMOTE"})},
	} {
		if got := buildSSHCommand(tc.o, tc.host, "REMOTE"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	got := buildSCPCommand(sshOptions{connectTimeout: 5 * time.Second}, "/tmp/ctrsh", "fe80::1", "/usr/local/bin/.ctrsh.push.ab")
	want := []string{"scp", "-q", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3",
		"--", "/tmp/ctrsh", "[fe80::1]:/usr/local/bin/.ctrsh.push.ab"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scp:\n got %q\nwant %q", got, want)
	}
	if got := scpTarget("admin@web1", "/x"); got != "admin@web1:/x" {
		t.Errorf("scpTarget = %s", got)
	}
}

func TestCheckSSHOption(t *testing.T) {
	for opt, bad := range map[string]bool{
		"StrictHostKeyChecking=no":         true,
		"stricthostkeychecking off":        true,
		"StrictHostKeyChecking=accept-new": false,
		"UserKnownHostsFile=/dev/null":     true,
		"BatchMode=no":                     true,
		"ProxyJump=bastion":                false,
		"User=admin":                       false,
	} {
		if err := checkSSHOption(opt); (err != nil) != bad {
			t.Errorf("checkSSHOption(%q) = %v, want refused=%v", opt, err, bad)
		}
	}
}

func TestParseHosts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hosts")
	os.WriteFile(file, []byte("# the web tier\nweb1\nweb2  # rack 3\n\nadmin@db1, db2\nweb1\n"), 0o644)
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "a,b,c", want: []string{"a", "b", "c"}},
		{in: "a, b,,a", want: []string{"a", "b"}},
		{in: file, want: []string{"web1", "web2", "admin@db1", "db2"}},
		{in: "", err: "no hosts"},
		{in: "a,-oProxyCommand=sh", err: "cannot start with '-'"},
		{in: "a,$(reboot)", err: "unexpected character"},
		{in: filepath.Join(dir, "nope"), err: "hosts file"},
		{in: "ssh://root@web1:2222", want: []string{"ssh://root@web1:2222"}},
	} {
		got, err := parseHosts(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseHosts(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseHosts(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseFleetArgs(t *testing.T) {
	f := defaultFleetFlags()
	rest, err := parseFleetArgs(&f, []string{"health", "--hosts", "a,b", "--label", "app=web", "--parallel=3",
		"--ssh-option", "ProxyJump=j", "--json", "--timeout", "30s", "--", "--parallel", "9"},
		"hosts", "parallel", "ssh-option", "json", "timeout")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"health", "--label", "app=web", "--", "--parallel", "9"}; !reflect.DeepEqual(rest, want) {
		t.Errorf("rest %q, want %q", rest, want)
	}
	if f.hosts != "a,b" || f.parallel != 3 || !f.json || f.timeout != 30*time.Second || !reflect.DeepEqual(f.ssh.options, []string{"ProxyJump=j"}) {
		t.Errorf("flags %+v", f)
	}
	for _, bad := range [][]string{{"--parallel", "0"}, {"--hosts"}, {"--timeout", "soon"}, {"--ssh-option", "StrictHostKeyChecking=no"}} {
		f := defaultFleetFlags()
		if _, err := parseFleetArgs(&f, bad, "hosts", "parallel", "timeout", "ssh-option"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// A flag of another fleet command is left to the playbook.
	f = defaultFleetFlags()
	rest, _ = parseFleetArgs(&f, []string{"x", "--image", "i"}, "hosts")
	if !reflect.DeepEqual(rest, []string{"x", "--image", "i"}) || f.image != "" {
		t.Errorf("rest %q image %q", rest, f.image)
	}
}

func TestWorstExit(t *testing.T) {
	ok := hostResult{Code: 0, Reached: true}
	finding := hostResult{Code: 3, Reached: true}
	luaErr := hostResult{Code: 1, Reached: true}
	timeout := hostResult{Code: 124, Reached: true}
	down := hostResult{Code: 255}
	lost := hostResult{Code: 255, Reached: true, Rows: 2}
	for _, tc := range []struct {
		name string
		in   []hostResult
		want int
	}{
		{"all ok", []hostResult{ok, ok}, 0},
		{"one host down does not fail the fleet", []hostResult{ok, down}, 0},
		{"finding beats ok and down", []hostResult{ok, finding, down}, 3},
		{"finding beats errors", []hostResult{luaErr, finding, timeout}, 3},
		{"the larger error code", []hostResult{luaErr, timeout, ok}, 124},
		{"order does not matter", []hostResult{timeout, luaErr}, 124},
		{"error beats ok", []hostResult{ok, luaErr}, 1},
		{"no host reached", []hostResult{down, down}, exitNoHost},
		{"a lost connection is a failure", []hostResult{ok, lost}, 255},
		{"none", nil, 0},
	} {
		if got := worstExit(tc.in); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// Rows from hosts: JSON objects gain host (their own host kept apart),
// other lines become output rows; the table goes through emit's writer.
func TestFleetOutputRows(t *testing.T) {
	var out, errOut bytes.Buffer
	o := newFleetOutput(true, &out, &errOut)
	o.row("a", []byte(`{"container":"web","mem":12345678901,"host":"inside"}`))
	o.row("b", []byte(`not json`))
	o.summary(hostResult{Host: "a", Code: 3, Duration: 1500 * time.Millisecond, Err: "1 of 1 containers need attention", Reached: true})
	o.finish([]string{"a", "b"})
	want := `{"container":"web","emitted_host":"inside","host":"a","mem":12345678901}
{"host":"b","output":"not json"}
{"error":"1 of 1 containers need attention","exit":3,"fleet":"summary","host":"a","seconds":1.500}
`
	if out.String() != want {
		t.Errorf("json:\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	o = newFleetOutput(false, &out, &errOut)
	o.row("a", []byte(`{"container":"web","state":"running"}`))
	o.row("bb", []byte(`{"container":"db\u001b]0;PWNED\u0007","state":"exited"}`))
	o.summary(hostResult{Host: "bb", Code: 0, Duration: time.Second, Reached: true})
	o.summary(hostResult{Host: "a", Code: 255, Duration: time.Second, Err: "ssh: connect to host a port 22: Connection refused"})
	o.finish([]string{"a", "bb"})
	want = `HOST  CONTAINER         STATE
a     web               running
bb    db\x1b]0;PWNED\a  exited

HOST  EXIT  SECONDS  ERROR
a      255    1.000  ssh: connect to host a port 22: Connection refused
bb       0    1.000
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", out.String(), want)
	}
	o.stderrLine("a", "ctrsh: boom")
	if errOut.String() != "a: ctrsh: boom\n" {
		t.Errorf("stderr %q", errOut.String())
	}
}

// The install step on a host checks the checksum before anything is
// renamed; run here with sh, as the host's shell would.
func TestPushInstallScript(t *testing.T) {
	dir := t.TempDir()
	tmp, target := filepath.Join(dir, ".ctrsh.push.1"), filepath.Join(dir, "ctrsh")
	os.WriteFile(target, []byte("old"), 0o755)
	os.WriteFile(tmp, []byte("new"), 0o600)
	out, err := exec.Command("sh", "-c", pushInstallScript(tmp, target, sha256Hex([]byte("other")))).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "checksum mismatch") {
		t.Errorf("mismatch: %v %s", err, out)
	}
	if b, _ := os.ReadFile(target); string(b) != "old" {
		t.Errorf("target replaced after a mismatch: %q", b)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp copy left after a mismatch: %v", err)
	}
	os.WriteFile(tmp, []byte("new"), 0o600)
	out, err = exec.Command("sh", "-c", pushInstallScript(tmp, target, sha256Hex([]byte("new")))).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"sha256":"`+sha256Hex([]byte("new"))+`"`) {
		t.Fatalf("install: %v %s", err, out)
	}
	st, err := os.Stat(target)
	if b, _ := os.ReadFile(target); err != nil || string(b) != "new" || st.Mode().Perm() != 0o755 {
		t.Errorf("target %q mode %v %v", b, st.Mode(), err)
	}
}

// fleet local is what a pod of fleet k8s runs: the same rows and summary
// as over ssh, the host named by --host-name (or NODE_NAME), the
// playbook's exit code.
func TestFleetLocal(t *testing.T) {
	pb := writePlaybook(t, t.TempDir(), "local-check.lua", `
local pb = playbook{args = {{name = "what"}}}
emit{checked = pb.args.what}
fail("found " .. pb.args.what)
`, 0o644)
	env := append(os.Environ(), "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"), "CTRSH_LOCK_DIR="+t.TempDir(), "NODE_NAME=node-7")
	r := ctrshEnv(t, env, "", "fleet", "local", pb, "disks", "--json")
	want := `{"checked":"disks","host":"node-7"}` + "\n"
	if r.code != 3 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, `"error":"ctrsh: found disks","exit":3,"fleet":"summary","host":"node-7"`) {
		t.Errorf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "node-7: ctrsh: found disks") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = ctrshEnv(t, env, "", "fleet", "local", pb, "x", "--host-name", "other", "--json")
	if !strings.HasPrefix(r.stdout, `{"checked":"x","host":"other"}`) {
		t.Errorf("--host-name: %s", r.stdout)
	}
}

func TestFleetUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"fleet"}, 64, "usage: ctrsh fleet run"},
		{[]string{"fleet", "--help"}, 0, "exit code: the worst host's"},
		{[]string{"fleet", "fly"}, 64, `unknown command "fly"`},
		{[]string{"fleet", "run", "health"}, 64, "no hosts"},
		{[]string{"fleet", "run", "no-such-playbook", "--hosts", "a"}, 64, "no playbook"},
		{[]string{"fleet", "run", "health", "--hosts", "-oProxyCommand=x"}, 64, "cannot start with '-'"},
		{[]string{"fleet", "run", "health", "--hosts", "a", "--ssh-option", "StrictHostKeyChecking=no"}, 64, "never turns host key checking off"},
		{[]string{"fleet", "push", "--hosts", "a", "--remote-ctrsh", "bin/ctrsh"}, 64, "absolute"},
		{[]string{"--help"}, 0, "ctrsh fleet run|push|k8s|local"},
	} {
		r := ctrsh(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.out) {
			t.Errorf("%q: exit %d, output %q %q; want %d and %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.out)
		}
	}
}
