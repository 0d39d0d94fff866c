package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// safeRefusals are calls that --safe refuses, each with the name its error
// must give. c is a running busybox container, dir a scratch directory.
var safeRefusals = []struct{ call, name string }{
	{`c:exec{"touch", "/tmp/exec"}`, "c:exec"},
	{`c:enter{"touch", "/tmp/enter"}`, "c:enter"},
	{`c:run[[ io.open("/tmp/run", "w"):close() ]]`, "c:run"},
	{`c:kill("TERM")`, "c:kill"},
	{`c:stop{timeout = 1}`, "c:stop"},
	{`c:restart{timeout = 1}`, "c:restart"},
	{`c:pause()`, "c:pause"},
	{`c:unpause()`, "c:unpause"},
	{`c:start()`, "c:start"},
	{`ns.enter(c.pid, {"touch", "/tmp/ns-enter"})`, "ns.enter"},
	{`ns.run(c.pid, "return 1")`, "ns.run"},
	{`ns.enter(1, {"true"}, {allow_host = true})`, "ns.enter"},
	{`ns.run(c.name, "return 1")`, "ns.run"},
	// Other routes to the same functions.
	{`getmetatable(c).__methods.exec(c, {"true"})`, "c:exec"},
	{`package.preload.ns().enter(c.pid, {"true"})`, "ns.enter"},
	{`require("net").dial("127.0.0.1:9")`, "net.dial"},
	{`net.dial("127.0.0.1:9")`, "net.dial"},
	{`net.http_get("http://127.0.0.1:9/")`, "net.http_get"},
	{`mkdir(dir .. "/made")`, "mkdir"},
	{`io.open(dir .. "/file", "w")`, "io.open"},
	{`io.popen("id")`, "io.popen"},
	{`io.lines("/etc/hostname")`, "io.lines"},
	{`io.output(dir .. "/out")`, "io.output"},
	{`io.read()`, "io.read"},
	{`os.getenv("HOME")`, "os.getenv"},
	{`os.execute("true")`, "os.execute"},
	{`os.remove(dir)`, "os.remove"},
	{`os.exit(0)`, "os.exit"},
	{`load("return 1")`, "load"},
	{`loadstring("return 1")`, "loadstring"},
	{`loadfile("/dev/null")`, "loadfile"},
	{`dofile("/dev/null")`, "dofile"},
	{`debug.getinfo(1)`, "debug.getinfo"},
	{`package.loadlib("x", "y")`, "package.loadlib"},
	{`require("debug").getregistry()`, "debug.getregistry"},
}

// TestSafeRefusesActions: with --safe, every function that changes or
// enters a container, and every escape to files, processes, the network or
// run-time code, raises an error naming itself and --safe, from -e and from
// a playbook (exit 1); the container is left as it was and nothing is
// audited. What --safe is for still works: reading the container, and
// writing to ctrsh's own output.
func TestSafeRefusesActions(t *testing.T) {
	name := fmt.Sprintf("safe-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	started := testengine.MustDocker(t, "inspect", "--format", "{{.State.StartedAt}}", id)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	env := engineEnv(t, "CTRSH_AUDIT_FILE="+audit)
	dir := t.TempDir()
	prelude := fmt.Sprintf("local c = assert(docker.container(%q)) local dir = %q\n", name, dir)
	for _, tc := range safeRefusals {
		t.Run(tc.call, func(t *testing.T) {
			want := tc.name + " is not available with --safe"
			src := prelude + tc.call + "\nprint(\"went on\")\n"
			r := ctrshEnv(t, env, "", "--safe", "-e", src)
			if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout, "went on") {
				t.Errorf("ctrsh --safe -e: exit %d, stdout %q, stderr %q; want exit 1 and %q", r.code, r.stdout, r.stderr, want)
			}
			pb := writePlaybook(t, t.TempDir(), "tries.lua", src, 0o644)
			r = ctrshEnv(t, env, "", "run", pb, "--safe")
			if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout, "went on") {
				t.Errorf("ctrsh run --safe: exit %d, stdout %q, stderr %q; want exit 1 and %q", r.code, r.stdout, r.stderr, want)
			}
		})
	}
	state := testengine.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", id)
	if state != "running "+started {
		t.Errorf("container after the --safe runs: %q, want running since %s", state, started)
	}
	if out, err := testengine.Docker(t, "exec", id, "ls", "/tmp"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("files made in the container: %q %v", out, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files made on the host: %v", entries)
	}
	if b, err := os.ReadFile(audit); err == nil && len(b) > 0 {
		t.Errorf("--safe runs wrote audit records (an action started):\n%s", b)
	}

	// Read-only diagnostics still run, and may write to ctrsh's own output.
	src := prelude + `
		assert(#c:top() >= 1)
		assert(c:stats().memory.usage > 0)
		assert(c:ns().pid > 0)
		assert(c:inspect().Id == c.id)
		assert(proc.get(c.pid).comm == "sleep")
		assert(os.time() > 0 and os.clock() >= 0 and os.date("%Y") and os.difftime(2, 1) == 1)
		io.write("io.write ") io.stdout:write("io.stdout ") io.stderr:write("io.stderr\n")
		emit{name = c.name}
	`
	r := ctrshEnv(t, env, "", "--safe", "-e", src)
	if r.code != 0 || !strings.Contains(r.stdout, "io.write io.stdout ") || !strings.Contains(r.stdout, name) || r.stderr != "io.stderr\n" {
		t.Errorf("read-only run with --safe: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
