// Package ptytest drives a program on a real pseudo-terminal for tests, as
// a person at a terminal would: what it prints is collected by a
// goroutine, Expect waits (bounded) for a pattern in what came after the
// previous match, and Wait waits (bounded) for the exit code.
package ptytest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Timeout bounds every wait, so a test fails instead of hanging.
const Timeout = 10 * time.Second

// Term is a program running on a pseudo-terminal.
type Term struct {
	t   *testing.T
	cmd *exec.Cmd
	pty *os.File
	mu  sync.Mutex
	out bytes.Buffer
	pos int
	eof bool // the pty reported EOF or an error: the program is gone
}

// Start starts cmd on a 120x40 pseudo-terminal (readline completes nothing
// on a terminal 0 columns wide); the process is killed at test end.
func Start(t *testing.T, cmd *exec.Cmd) *Term {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting %s on a pty: %v", cmd.Path, err)
	}
	tm := &Term{t: t, cmd: cmd, pty: f}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.eof = err != nil
			tm.mu.Unlock()
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
	return tm
}

// Send types s (use "\r" for Enter, "\x03" for Ctrl-C, "\x04" for Ctrl-D).
func (tm *Term) Send(s string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(s)); err != nil {
		tm.t.Fatalf("writing %q to the pty: %v", s, err)
	}
}

// Expect waits up to Timeout for pattern in the output after the last
// match, and moves past it.
func (tm *Term) Expect(pattern string) {
	tm.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(Timeout)
	for {
		tm.mu.Lock()
		loc := re.FindIndex(tm.out.Bytes()[tm.pos:])
		if loc != nil {
			tm.pos += loc[1]
		}
		all, eof := tm.out.String(), tm.eof
		tm.mu.Unlock()
		if loc != nil {
			return
		}
		if eof {
			tm.t.Fatalf("%s ended before printing %q; output:\n%q", tm.cmd.Path, pattern, all)
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("no %q in the output of %s within %v; output so far:\n%q", pattern, tm.cmd.Path, Timeout, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Output is everything printed so far.
func (tm *Term) Output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// Wait waits up to Timeout for the program to exit and returns its code.
func (tm *Term) Wait() int {
	tm.t.Helper()
	done := make(chan error, 1)
	go func() { done <- tm.cmd.Wait() }()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			tm.t.Fatalf("waiting for %s: %v", tm.cmd.Path, err)
		}
		return 0
	case <-time.After(Timeout):
		tm.t.Fatalf("%s did not exit within %v; output:\n%q", tm.cmd.Path, Timeout, tm.Output())
		return -1
	}
}
