package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// topContainers starts the 20 containers of the top tests, named
// top-PID-*: three web (each logs a line), a hog holding 48 MiB in
// /dev/shm, a db and 15 idle ones. It returns the name prefix and the
// web containers' host PIDs.
func topContainers(t *testing.T) (prefix string, webPIDs map[string]bool) {
	t.Helper()
	prefix = fmt.Sprintf("top-%d-", os.Getpid())
	webPIDs = map[string]bool{}
	for i := 1; i <= 3; i++ {
		id := startBusybox(t, fmt.Sprintf("%sweb-%d", prefix, i), "sh", "-c", "echo hello-from-web; exec sleep 1000")
		webPIDs[testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id)] = true
	}
	startBusybox(t, prefix+"hog", "sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null; exec sleep 1000")
	startBusybox(t, prefix+"db", "sleep", "1000")
	for i := 1; i <= 15; i++ {
		startBusybox(t, fmt.Sprintf("%sidle-%02d", prefix, i), "sleep", "1000")
	}
	return prefix, webPIDs
}

// TestTopOnATerminal drives `ctrsh top` in tmux against 20 containers:
// they are all on the screen, m puts the one that allocated the most
// first, /web filters, Enter shows a web container's processes (host PID
// and PID inside) and its log line, Esc goes back, q exits 0.
func TestTopOnATerminal(t *testing.T) {
	prefix, webPIDs := topContainers(t)
	env := engineEnv(t, "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1")
	s := startTmuxSized(t, env, 200)
	s.typeLine(fmt.Sprintf("clear; %s top --filter %s; echo EXIT=$?", ctrshBinary(t), prefix))
	s.waitFor("20 containers")
	scr := s.waitFor(prefix + "idle-15")
	for _, n := range []string{"web-1", "web-2", "web-3", "hog", "db", "idle-01", "idle-15"} {
		if !strings.Contains(scr, prefix+n) {
			t.Errorf("%s is not on the screen:\n%s", prefix+n, scr)
		}
	}
	want := "NAME ID CPU% MEM LIMIT MEM% PIDS OOM RESTARTS NET_RX NET_TX BLOCK_R BLOCK_W"
	if got := strings.Join(tableHeader(t, scr, "NAME"), " "); got != want {
		t.Errorf("columns %q, want %q", got, want)
	}

	s.run("send-keys", "-l", "m")
	scr = s.waitFor("sort: memory")
	if first := firstRow(scr); !strings.HasPrefix(first, prefix+"hog ") {
		t.Errorf("sorted by memory, the first row is %q, want the hog:\n%s", first, scr)
	}

	s.run("send-keys", "-l", "/web")
	s.run("send-keys", "Enter")
	scr = s.waitFor("3 containers")
	for _, n := range []string{"hog", "db", "idle-01"} {
		if strings.Contains(scr, prefix+n) {
			t.Errorf("/web still shows %s:\n%s", n, scr)
		}
	}

	s.run("send-keys", "Enter")
	scr = s.waitFor("hello-from-web")
	m := regexp.MustCompile(`(?m)^\s+(\d+)\s+1\s+\d+\s+root\s.*sleep 1000$`).FindStringSubmatch(scr)
	if m == nil || !webPIDs[m[1]] {
		t.Errorf("the detail does not show a web container's init with its host PID (one of %v) and PID inside 1:\n%s", webPIDs, scr)
	}
	for _, want := range []string{"PROCESSES", "PID_INSIDE", "LAST LOG LINES", "LAST EXECS"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the detail lacks %s:\n%s", want, scr)
		}
	}
	s.run("send-keys", "Escape")
	s.waitFor("3 containers")
	s.run("send-keys", "-l", "q")
	scr = s.waitFor("EXIT=")
	if !strings.Contains(scr, "EXIT=0") {
		t.Errorf("q: %s", scr[strings.Index(scr, "EXIT="):])
	}
}

// firstRow is the first container row of the list (after the header),
// without the selection mark.
func firstRow(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  NAME ") && i+1 < len(lines) {
			return strings.TrimLeft(lines[i+1], "> ")
		}
	}
	return ""
}

// Off a terminal: one sample, a table without escape codes, or JSON lines
// with exact figures.
func TestTopOffATerminal(t *testing.T) {
	prefix := fmt.Sprintf("topoff-%d-", os.Getpid())
	startBusybox(t, prefix+"hog", "sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 2>/dev/null; exec sleep 1000")
	startBusybox(t, prefix+"idle", "sleep", "1000")
	env := engineEnv(t, "TERM=xterm", "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"))
	r := ctrshEnv(t, env, "", "top", "--filter", prefix, "--sort", "mem", "--interval", "300ms")
	if r.code != 0 || strings.Contains(r.stdout, "\x1b") {
		t.Fatalf("code %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME ") || !strings.HasPrefix(lines[1], prefix+"hog ") ||
		!strings.HasPrefix(lines[2], prefix+"idle ") || lines[3] != "(2 containers)" {
		t.Errorf("table:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`\d+\.\d%\s+2\d\.\d MiB`).MatchString(lines[1]) {
		t.Errorf("the hog's row has no CPU %% and ~24 MiB: %q", lines[1])
	}
	r = ctrshEnv(t, env, "", "top", "--filter", prefix, "--json", "--interval", "300ms")
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("--json: %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 2 {
		t.Fatalf("--json: %d rows:\n%s", len(rows), r.stdout)
	}
	for _, m := range rows {
		for _, k := range []string{"name", "id", "pid", "cpu_percent", "mem_usage", "pids", "oom_kills", "restarts", "net_rx_bytes", "block_read_bytes"} {
			if _, ok := m[k]; !ok {
				t.Errorf("--json row lacks %s: %v", k, m)
			}
		}
		if m["name"] == prefix+"hog" && m["mem_usage"].(float64) < 24<<20 {
			t.Errorf("the hog uses %v bytes, want 24 MiB or more", m["mem_usage"])
		}
	}
	r = ctrshEnv(t, env, "", "-e", fmt.Sprintf(`local s = assert(top{interval = 0.2, sort = "mem", filter = %q})
		assert(#s == 2 and s[1].name == %q and s[1].mem_usage > s[2].mem_usage and s[1].cpu_percent >= 0, json.encode(s))
		print("top ok")`, prefix, prefix+"hog"))
	if r.code != 0 || strings.TrimSpace(r.stdout) != "top ok" {
		t.Errorf("top() off a terminal: code %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if r = ctrsh(t, "", "top", "--sort", "size"); r.code != 64 || !strings.Contains(r.stderr, "--sort") {
		t.Errorf("--sort size: code %d, %s", r.code, r.stderr)
	}
}

// top() in the shell takes the terminal, and gives it back as it was: after
// q the prompt reads and echoes lines again.
func TestTopInTheShell(t *testing.T) {
	name := fmt.Sprintf("topsh-%d", os.Getpid())
	startBusybox(t, name, "sleep", "1000")
	env := engineEnv(t, "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1", "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"))
	s := startTmuxSized(t, env, 120)
	s.typeLine("clear; " + ctrshBinary(t))
	s.waitFor("ctrsh> ")
	s.typeLine(fmt.Sprintf(`top{filter = %q, sort = "name"}`, name))
	scr := s.waitFor("1 containers (docker)")
	if !strings.Contains(scr, "> "+name) || !strings.Contains(scr, "sort: name") {
		t.Errorf("top() in the shell:\n%s", scr)
	}
	s.run("send-keys", "-l", "q")
	// The prompt again (keys typed before top has gone are its own).
	s.waitForCount("ctrsh> ", 2)
	s.typeLine("print(40 + 2)")
	scr = s.waitFor("\n42\n")
	if !strings.Contains(scr, "ctrsh> print(40 + 2)") {
		t.Errorf("after q the shell does not echo what is typed:\n%s", scr)
	}
}

// SIGTERM ends ctrsh top with 143, the terminal put back (cursor shown,
// alternate screen left).
func TestTopSignal(t *testing.T) {
	cmd := exec.Command(ctrshBinary(t), "top")
	cmd.Env = engineEnv(t, "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1")
	st := ptytest.Start(t, cmd)
	st.Expect(`containers \(docker\)`)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := st.Wait(); code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	if out := st.Output(); !strings.HasSuffix(strings.TrimRight(out, "\r\n"), "\x1b[?25h\x1b[?1049l") {
		t.Errorf("the terminal is not put back: output ends %q", out[max(0, len(out)-80):])
	}
}
