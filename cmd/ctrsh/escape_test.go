package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// hostile is what a process inside a container can name itself and write
// to its log: set the terminal's title, then clear the screen.
const hostile = "\x1b]0;TITLE\a\x1b[2J"

// hostileEscaped is how ctrsh shows it on a terminal.
const hostileEscaped = `\x1b]0;TITLE\a\x1b[2J`

// hostileContainer starts a busybox container whose processes are a script
// named hostile: one that lives, one that exits and is never reaped (a
// zombie), and a log line with the same bytes. It returns the container's id
// once the zombie is there.
func hostileContainer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n" +
		"case \"$1\" in\n" +
		"child) sleep 1; exit 0 ;;\n" +
		"live) while :; do sleep 1000; done ;;\n" +
		"esac\n" +
		"printf 'error \\033]0;TITLE\\007\\033[2J end\\n'\n" +
		"\"$0\" live &\n" +
		"\"$0\" child &\n" +
		"exec sleep 100000\n"
	if err := os.WriteFile(filepath.Join(dir, hostile), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	id := testengine.Run(t, "-v", dir+":/x:ro", testengine.BusyboxImage, "/x/"+hostile)
	pid := testengine.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id)
	deadline := time.Now().Add(20 * time.Second)
	for {
		// The engine's top leaves zombies out: look at the init's children.
		children, _ := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
		for _, c := range strings.Fields(string(children)) {
			stat, _ := os.ReadFile("/proc/" + c + "/stat")
			if strings.Contains(string(stat), "("+hostile+") Z ") {
				return id
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no zombie named %q in the container (children of %s: %s)", hostile, pid, children)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tmuxSession is a tmux server of the test's own, with one pane running sh.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func startTmux(t *testing.T, env []string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is missing (fixtures/engine.sh start installs it)")
		}
		t.Skip("tmux is missing (apt-get install tmux)")
	}
	s := &tmuxSession{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	// Tall enough that nothing scrolls off: the screen is checked whole.
	cmd := exec.Command("tmux", "-S", s.sock, "-f", "/dev/null", "new-session", "-d", "-x", "250", "-y", "400", "sh")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	s.run("select-pane", "-T", "before")
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// typeLine types text and Enter, as a person would.
func (s *tmuxSession) typeLine(text string) {
	s.t.Helper()
	s.run("send-keys", "-l", text)
	s.run("send-keys", "Enter")
}

// screen is what the pane shows, wrapped lines joined, without the blank
// lines below the last one written.
func (s *tmuxSession) screen() string {
	return strings.TrimRight(s.run("capture-pane", "-p", "-J"), "\n") + "\n"
}

func (s *tmuxSession) title() string {
	return strings.TrimSpace(s.run("display-message", "-p", "#{pane_title}"))
}

// waitFor waits until the screen shows want.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen does not show %q within 30 s:\n%s", want, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForShell waits until the pane's last line is sh's prompt.
func (s *tmuxSession) waitForShell() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		scr := strings.TrimSpace(s.screen())
		last := scr[strings.LastIndex(scr, "\n")+1:]
		if last == "#" || last == "$" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no shell prompt within 30 s:\n%s", scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTerminalEscapesContainerText runs the bundled playbooks and the shell
// in tmux against a container whose process names and log line are escape
// sequences that set the title and clear the screen: the screen keeps what
// was on it, the title stays, and the bytes are shown escaped.
func TestTerminalEscapesContainerText(t *testing.T) {
	id := hostileContainer(t)
	env := engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"), "HOME="+t.TempDir(), "TERM=xterm")
	s := startTmux(t, env)
	bin := ctrshBinary(t)
	n := 0
	check := func(what string) {
		t.Helper()
		n++
		s.run("select-pane", "-T", "before")
		// The marker is printed before ctrsh runs: clearing the screen would erase it.
		s.typeLine(fmt.Sprintf("clear; echo BEFORE-%d; %s; echo AFTER-\"\"%d", n, what, n))
		scr := s.waitFor(fmt.Sprintf("AFTER-%d", n))
		if !strings.Contains("\n"+scr, fmt.Sprintf("\nBEFORE-%d\n", n)) {
			t.Errorf("%s: the screen was cleared:\n%s", what, scr)
		}
		if !strings.Contains(scr, hostileEscaped) {
			t.Errorf("%s: the screen does not show %s:\n%s", what, hostileEscaped, scr)
		}
		if title := s.title(); title != "before" {
			t.Errorf("%s: the pane's title is now %q", what, title)
		}
	}
	check(bin + " run pidmap " + id)
	check(bin + " run zombies " + id)
	check(bin + " run log-errors --container " + id)
	// Messages quoting container text: an error and fail() printed by ctrsh
	// as it ends, a playbook's own message on io.stderr.
	zombie := `for _, p in ipairs(docker.container("` + id + `"):top()) do if p.state == "Z" then %s end end`
	check(bin + ` -e '` + fmt.Sprintf(zombie, `error(p.comm)`) + `'`)
	check(bin + ` -e '` + fmt.Sprintf(zombie, `io.stderr:write("zombie: ", p.comm, "\n") fail(p.comm)`) + `'`)

	// The shell: its value printer, print, emit and errors; its prompt and
	// colours still work.
	s.typeLine("clear; echo BEFORE-shell; " + bin)
	s.waitFor("ctrsh> ")
	s.typeLine(`c = docker.container("` + id + `")`)
	s.typeLine(`names = function() local s = "" for _, p in ipairs(c:top()) do s = s .. p.comm .. " " .. p.cmd .. " " end return s end`)
	for i, line := range []string{
		`pp(c:top())`,
		`for _, p in ipairs(c:top()) do print(p.comm, p.cmd) end`,
		`for _, p in ipairs(c:top()) do emit{comm = p.comm, cmd = p.cmd} end`,
		`names()`,
		`error(names())`,
		`assert(nil, names())`,
	} {
		s.run("select-pane", "-T", "before")
		s.typeLine(line)
		s.typeLine(fmt.Sprintf("print('STEP-' .. %d)", i))
		scr := s.waitFor(fmt.Sprintf("STEP-%d", i))
		if !strings.Contains(scr, "BEFORE-shell") {
			t.Errorf("shell, %s: the screen was cleared:\n%s", line, scr)
		}
		if title := s.title(); title != "before" {
			t.Errorf("shell, %s: the pane's title is now %q", line, title)
		}
	}
	scr := s.screen()
	if strings.Count(scr, hostileEscaped) < 6 {
		t.Errorf("the shell does not show the names escaped:\n%s", scr)
	}
	// The error is red: colour is ctrsh's own, not the container's.
	if colour := s.run("capture-pane", "-p", "-e"); !strings.Contains(colour, "\x1b[31m") {
		t.Errorf("the shell's error is not coloured:\n%q", colour)
	}
	s.run("send-keys", "C-d")
	s.waitForShell()

	// Asked for, the bytes go out as they are.
	s.typeLine(bin + ` --raw -e 'io.write("\27]0;RAW\7") print("RAW-" .. "DONE")'`)
	s.waitFor("RAW-DONE")
	if title := s.title(); title != "RAW" {
		t.Errorf("with --raw, the title is %q, want RAW", title)
	}
}

// TestRawOffTerminal: without a terminal, what a script writes is data for
// a pipe: the bytes as they are.
func TestRawOffTerminal(t *testing.T) {
	r := ctrsh(t, "", "-e", `io.write("a\27[2J") print("\155b") emit{x = "\27"} io.stderr:write("\27]0;t\7")`)
	if r.code != 0 || r.stdout != "a\x1b[2J\x9bb\nX\n\\x1b\n" || r.stderr != "\x1b]0;t\a" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestJSONEscapesControls: --json and json.encode escape every control
// character — C0, DEL, C1 — by JSON's rules, so a JSON line shown on a
// terminal is inert and decodes to the bytes the container wrote.
func TestJSONEscapesControls(t *testing.T) {
	s := "a\x1b]0;T\x07\x7f\u009b\u0085z"
	src := fmt.Sprintf(`local s = %s emit{s = s} io.write(json.encode({s = s}), "\n")`, luaBytes(s))
	r := ctrsh(t, "", "--json", "-e", src)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout %q, want two lines", r.stdout)
	}
	want := `{"s":"a\u001b]0;T\u0007\u007f\u009b\u0085z"}`
	for _, l := range lines {
		if l != want {
			t.Errorf("JSON line %s, want %s", l, want)
		}
		var v struct{ S string }
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.S != s {
			t.Errorf("JSON line %s decodes to %q (%v), want %q", l, v.S, err, s)
		}
	}
}

// luaBytes is s as a Lua string literal, every byte in decimal.
func luaBytes(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "\\%03d", s[i])
	}
	b.WriteByte('"')
	return b.String()
}
