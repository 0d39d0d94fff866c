package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// shellTerm drives ctrsh on a pseudo-terminal: a goroutine collects what
// it prints, and expect waits, bounded, for a pattern in what came after
// the previous match.
type shellTerm struct {
	t   *testing.T
	pty *os.File
	mu  sync.Mutex
	out bytes.Buffer
	pos int
	eof bool // the pty reported EOF or an error: ctrsh is gone
}

const shellWait = 10 * time.Second

func startShell(t *testing.T, cmd *exec.Cmd) *shellTerm {
	t.Helper()
	// A size: readline completes nothing on a terminal 0 columns wide.
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting ctrsh on a pty: %v", err)
	}
	st := &shellTerm{t: t, pty: f}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			st.mu.Lock()
			st.out.Write(buf[:n])
			st.eof = err != nil
			st.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		f.Close()
	})
	return st
}

func (st *shellTerm) send(s string) {
	st.t.Helper()
	if _, err := st.pty.Write([]byte(s)); err != nil {
		st.t.Fatalf("typing %q: %v", s, err)
	}
}

func (st *shellTerm) output() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.out.String()
}

// expect waits for pattern in the output after the last match, and moves
// past it; it fails the test after shellWait rather than hang.
func (st *shellTerm) expect(pattern string) {
	st.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(shellWait)
	for {
		st.mu.Lock()
		loc := re.FindIndex(st.out.Bytes()[st.pos:])
		if loc != nil {
			st.pos += loc[1]
		}
		eof := st.eof
		st.mu.Unlock()
		if loc != nil {
			return
		}
		if eof {
			st.t.Fatalf("ctrsh ended before printing %q; output:\n%q", pattern, st.output())
		}
		if time.Now().After(deadline) {
			st.t.Fatalf("no %q in ctrsh's output within %v; output:\n%q", pattern, shellWait, st.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInteractiveShell types at ctrsh on a real pseudo-terminal as a person
// would: an assignment, an expression, a multi-line for loop, Tab
// completions, Ctrl-C during sleep(30), and Ctrl-D.
func TestInteractiveShell(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm", "NO_COLOR=1"}
	st := startShell(t, cmd)

	const (
		prompt     = `ctrsh> `
		contPrompt = `   \.\.\.> `
	)
	st.expect(prompt)

	st.send("x = 41\r")
	st.expect(prompt)
	st.send("x + 1\r")
	st.expect(`\n42\r?\n`)
	st.expect(prompt)

	st.send("for i = 1, 3 do\r")
	st.expect(contPrompt)
	st.send("print(i * 10)\r")
	st.expect(contPrompt)
	st.send("end\r")
	st.expect(`\n10\r?\n20\r?\n30\r?\n`)
	st.expect(prompt)

	// string.up<TAB> completes to string.upper: the line then runs it
	// (ABC appears nowhere in what was typed).
	st.send("string.up")
	st.expect(`string\.up`)
	st.send("\t")
	st.expect(`string\.upper`)
	st.send(`("abc")` + "\r")
	st.expect(`ABC`)
	st.expect(prompt)

	// A module field: json.enc<TAB> → json.encode.
	st.send("print(json.enc")
	st.expect(`json\.enc`)
	st.send("\t")
	st.expect(`json\.encode`)
	st.send("({a=1}))\r")
	st.expect(`\n\{"a":1\}\r?\n`)
	st.expect(prompt)

	// An error prints with its location; the shell goes on.
	st.send(`error("boom")` + "\r")
	st.expect(`stdin:1: boom`)
	st.expect(prompt)

	// Ctrl-C during sleep(30) stops that statement only. 1042 is printed
	// once the statement runs (the terminal is then out of raw mode, so
	// Ctrl-C is the terminal's SIGINT).
	st.send("print(1000 + 42) sleep(30) print('not' .. 'reached')\r")
	st.expect(`\n1042\r?\n`)
	st.send("\x03")
	st.expect(`interrupted`)
	st.expect(prompt)
	st.send(`print("aft" .. "er")` + "\r")
	st.expect(`\nafter\r?\n`)
	st.expect(prompt)
	if strings.Contains(st.output(), "notreached") {
		t.Errorf("the statement went on after Ctrl-C:\n%q", st.output())
	}

	// Ctrl-D at an empty prompt: ctrsh exits 0.
	st.send("\x04")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Errorf("ctrsh exited %d after Ctrl-D, want 0; output:\n%q", exitErr.ExitCode(), st.output())
		} else if err != nil {
			t.Fatalf("waiting for ctrsh: %v", err)
		}
	case <-time.After(shellWait):
		t.Fatalf("ctrsh did not exit within %v of Ctrl-D; output:\n%q", shellWait, st.output())
	}

	hist, err := os.ReadFile(filepath.Join(home, ".ctrsh_history"))
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	for _, want := range []string{"x = 41", "x + 1", "for i = 1, 3 do", `string.upper("abc")`} {
		if !strings.Contains(string(hist), want+"\n") {
			t.Errorf("~/.ctrsh_history lacks %q:\n%s", want, hist)
		}
	}
}
