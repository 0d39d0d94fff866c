package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/tabular"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// startTmuxSized is startTmux with a pane of width columns running sh.
func startTmuxSized(t *testing.T, env []string, width int) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is missing (fixtures/engine.sh start installs it)")
		}
		t.Skip("tmux is missing (apt-get install tmux)")
	}
	s := &tmuxSession{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	cmd := exec.Command("tmux", "-S", s.sock, "-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(width), "-y", "100", "sh")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

// tableCase starts the two containers the table tests look at: web (two
// processes, 64 MiB limit) and db, labelled ctrsh.case=CASE.
func tableCase(t *testing.T) (caseLabel, web string) {
	t.Helper()
	caseLabel = fmt.Sprintf("tables-%d", os.Getpid())
	web = fmt.Sprintf("tbl-%d-web", os.Getpid())
	startBusyboxWith(t, web, []string{"--label", "ctrsh.case=" + caseLabel, "--memory", "64m"}, "sh", "-c", "sleep 1000 & exec sleep 2000")
	startBusyboxWith(t, fmt.Sprintf("tbl-%d-db", os.Getpid()), []string{"--label", "ctrsh.case=" + caseLabel}, "sleep", "3000")
	return caseLabel, web
}

// step is a statement typed at the shell and what shows that it has run.
type step struct{ stmt, done string }

// shellAt runs the shell in tmux at width columns and types each statement
// once the one before has run (what is typed ahead is echoed into the
// output); it returns the screen.
func shellAt(t *testing.T, width int, steps ...step) string {
	t.Helper()
	env := engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"), "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1")
	s := startTmuxSized(t, env, width)
	s.typeLine("clear; " + ctrshBinary(t))
	s.waitFor("ctrsh> ")
	for i, st := range steps {
		s.typeLine(st.stmt)
		s.waitForCount(st.done, strings.Count(strings.Join(stepsDone(steps[:i]), "\n"), st.done)+1)
	}
	return s.screen()
}

func stepsDone(steps []step) []string {
	var out []string
	for _, st := range steps {
		out = append(out, st.done)
	}
	return out
}

// waitForCount waits until the screen shows want n times.
func (s *tmuxSession) waitForCount(want string, n int) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		scr := s.screen()
		if strings.Count(scr, want) >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen does not show %q %d times within 30 s:\n%s", want, n, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tableHeader finds the header line of a table whose first column is first.
func tableHeader(t *testing.T, screen, first string) []string {
	t.Helper()
	for _, line := range strings.Split(screen, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == first && f[1] != "=" {
			return f
		}
	}
	t.Fatalf("no table starting with %s on the screen:\n%s", first, screen)
	return nil
}

// checkWidth checks that no line the shell printed (not the banner, not
// what was typed) is wider than the terminal: a wrapped line shows joined.
func checkWidth(t *testing.T, screen string, width int) {
	t.Helper()
	for _, line := range strings.Split(screen, "\n") {
		if strings.HasPrefix(line, "ctrsh") {
			continue
		}
		if w := tabular.Width(line); w > width {
			t.Errorf("a line of %d cells on a terminal of %d (it wrapped): %q", w, width, line)
		}
	}
}

// TestShellTablesFitTheTerminal: the values of c:top() and docker.stats{}
// print as tables with the columns people read first, fitted to an 80-
// and a 200-column terminal, with a row count; pp still prints the tree.
func TestShellTablesFitTheTerminal(t *testing.T) {
	caseLabel, web := tableCase(t)
	top := fmt.Sprintf(`docker.container(%q):top()`, web)
	stats := fmt.Sprintf(`docker.stats{interval = 0.5, filters = {label = "ctrsh.case=%s"}}`, caseLabel)
	for _, tc := range []struct {
		width      int
		top, stats string
	}{
		{80, "PID PID_INSIDE PPID USER STATE RSS TIME COMM CMD", "NAME CPU% MEM LIMIT MEM% PIDS OOM"},
		{200, "PID PID_INSIDE PPID PPID_INSIDE USER UID STATE RSS TIME COMM CMD",
			"NAME ID CPU% MEM LIMIT MEM% PIDS OOM NET_RX NET_TX CPU_TIME"}, // block I/O with fields={"io"}
	} {
		t.Run(fmt.Sprint(tc.width), func(t *testing.T) {
			scr := shellAt(t, tc.width, step{top, "rows"}, step{stats, "rows"})
			checkWidth(t, scr, tc.width)
			if n := len(regexp.MustCompile(`\(2 rows[;)]`).FindAllString(scr, -1)); n != 2 {
				t.Errorf("%d row counts on the screen, want 2 (c:top() and docker.stats{}):\n%s", n, scr)
			}
			if got := strings.Join(tableHeader(t, scr, "PID"), " "); got != tc.top {
				t.Errorf("c:top() columns %q, want %q", got, tc.top)
			}
			if got := strings.Join(tableHeader(t, scr, "NAME"), " "); !strings.HasPrefix(got, tc.stats) {
				t.Errorf("docker.stats{} columns %q, want %q first", got, tc.stats)
			}
			for _, re := range []string{
				`(?m)^\s*\d+\s+1\s+\d+\s.*\broot\b.*\bS\s+[\d.]+ [KM]iB\s.*sleep 2000$`, // web's init: PID inside 1, RSS in KiB/MiB
				`(?m)^\s*\d+\s+\d+\s+\d+\s.*\broot\b.*sleep 1000$`,
				`(?m)^tbl-\d+-web\s.*\s64\.0 MiB\s+[\d.]+%\s+2\s+0`, // working set, limit, MEM%, pids, OOM kills
				`(?m)^tbl-\d+-db\s`,
			} {
				if !regexp.MustCompile(re).MatchString(scr) {
					t.Errorf("no %s on the screen:\n%s", re, scr)
				}
			}
		})
	}
	t.Run("stats-without-interval", func(t *testing.T) {
		scr := shellAt(t, 80, step{fmt.Sprintf(`docker.stats{filters = {label = "ctrsh.case=%s"}}`, caseLabel), "rows"})
		checkWidth(t, scr, 80)
		// No CPU% without an interval: the empty column is left out.
		if got := strings.Join(tableHeader(t, scr, "NAME"), " "); !strings.HasPrefix(got, "NAME MEM LIMIT MEM% PIDS OOM") {
			t.Errorf("docker.stats{} columns %q", got)
		}
	})
	t.Run("pp", func(t *testing.T) {
		scr := shellAt(t, 80, step{fmt.Sprintf(`pp(docker.container(%q):top())`, web), "\n}"})
		for _, want := range []string{"pid_inside = 1,", `cmd = "sleep 2000",`, "rss = "} {
			if !strings.Contains(scr, want) {
				t.Errorf("pp(c:top()) does not show %q:\n%s", want, scr)
			}
		}
	})
}

// TestShellTablesColourOnlyWhereAsked: on a terminal the header is bold;
// with NO_COLOR, and off a terminal (emit's rows, ctrsh top's sample), no
// escape code is written.
func TestShellTablesColourOnlyWhereAsked(t *testing.T) {
	_, web := tableCase(t)
	run := func(noColor bool) string {
		env := engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"), "HOME="+t.TempDir(), "TERM=xterm")
		if noColor {
			env = append(env, "NO_COLOR=1")
		}
		cmd := exec.Command(ctrshBinary(t))
		cmd.Env = env
		st := ptytest.Start(t, cmd)
		st.Expect(`ctrsh> `)
		st.Send(fmt.Sprintf(`docker.container(%q):top()`+"\r", web))
		st.Expect(`\(2 rows\)`)
		st.Send("\x04")
		st.Wait()
		out := st.Output()
		return out[strings.Index(out, "top()"):]
	}
	if out := run(false); !strings.Contains(out, "\x1b[1m") {
		t.Errorf("no bold header on a terminal:\n%q", out)
	}
	if out := run(true); strings.Contains(out[strings.Index(out, "PID"):strings.Index(out, "(2 rows)")], "\x1b") {
		t.Errorf("an escape code with NO_COLOR:\n%q", out)
	}
	r := ctrshEnv(t, engineEnv(t, "TERM=xterm"), "", "-e", fmt.Sprintf(`for _, p in ipairs(docker.container(%q):top()) do emit(p) end`, web))
	if r.code != 0 || !strings.Contains(r.stdout, "PID_INSIDE") || strings.Contains(r.stdout, "\x1b") {
		t.Errorf("emit off a terminal: code %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
}
