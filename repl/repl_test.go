package repl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/repl/ptytest"
	lua "github.com/yuin/gopher-lua"
)

// childEnv makes the test binary run the shell instead of the tests: the
// pty test re-executes itself on a pseudo-terminal, where Ctrl-C is the
// terminal's SIGINT as it is for a person at the shell.
const childEnv = "CTRSH_REPL_TEST_SHELL"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(childShell())
	}
	os.Exit(m.Run())
}

// testState is a small Lua state with what the tests need: sleep that
// honours the statement's context, print to out.
func testState(out io.Writer) *lua.LState {
	L := lua.NewState()
	L.SetGlobal("sleep", L.NewFunction(func(L *lua.LState) int {
		d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
		ctx := L.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			L.RaiseError("%v", ctx.Err())
		}
		return 0
	}))
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		strs := make([]string, L.GetTop())
		for i := range strs {
			strs[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		fmt.Fprintln(out, strings.Join(strs, "\t"))
		return 0
	}))
	return L
}

func childShell() int {
	L := testState(os.Stdout)
	defer L.Close()
	if err := Run(context.Background(), L, Config{Banner: "repl test shell"}); err != nil {
		fmt.Fprintln(os.Stderr, "Run:", err)
		return 1
	}
	return 0
}

const (
	prompt     = `ctrsh> `
	contPrompt = `   \.\.\.> `
)

// TestShellOnPty runs Run on a real pseudo-terminal and types at it as a
// person would.
func TestShellOnPty(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "HOME="+home, "TERM=xterm")
	tm := ptytest.Start(t, cmd)

	tm.Expect(`repl test shell`)
	tm.Expect(prompt)

	// An assignment, then an expression: its value is printed.
	tm.Send("x = 41\r")
	tm.Expect(prompt)
	tm.Send("x + 1\r")
	tm.Expect(`\n42\r?\n`)
	tm.Expect(prompt)

	// Several values, tab separated.
	tm.Send("x, 'two', nil\r")
	tm.Expect(`\n41\ttwo\tnil\r?\n`)
	tm.Expect(prompt)

	// A multi-line for loop: the continuation prompt until `end`.
	tm.Send("for i = 1, 3 do\r")
	tm.Expect(contPrompt)
	tm.Send("print(i * 10)\r")
	tm.Expect(contPrompt)
	tm.Send("end\r")
	tm.Expect(`\n10\r?\n20\r?\n30\r?\n`)
	tm.Expect(prompt)

	// Tab completion: string.up<TAB> becomes string.upper, which runs.
	tm.Send("string.up")
	tm.Expect(`string\.up`)
	tm.Send("\t")
	tm.Expect(`per`)
	tm.Send(`("abc")` + "\r")
	tm.Expect(`\nABC\r?\n`)
	tm.Expect(prompt)

	// An error prints with its location and the shell goes on.
	tm.Send(`error("boom")` + "\r")
	tm.Expect(`stdin:1: boom`)
	tm.Expect(prompt)
	tm.Send("x = = 1\r")
	tm.Expect(`stdin:1: syntax error near '='`)
	tm.Expect(prompt)

	// Ctrl-C during sleep(30) stops that statement; the shell goes on.
	tm.Send("print(1000 + 42) sleep(30) print('not' .. 'reached')\r")
	tm.Expect(`\n1042\r?\n`)
	tm.Send("\x03")
	tm.Expect(`interrupted`)
	tm.Expect(prompt)
	tm.Send(`print("aft" .. "er")` + "\r")
	tm.Expect(`\nafter\r?\n`)
	tm.Expect(prompt)

	// Ctrl-C during a Lua loop that calls nothing.
	tm.Send("print(1000 + 7) while true do end\r")
	tm.Expect(`\n1007\r?\n`)
	tm.Send("\x03")
	tm.Expect(`interrupted`)
	tm.Expect(prompt)

	// Ctrl-C at the prompt clears the line and an unfinished chunk.
	tm.Send("if true then\r")
	tm.Expect(contPrompt)
	tm.Send("\x03")
	tm.Expect(prompt)
	tm.Send("x\r")
	tm.Expect(`\n41\r?\n`)
	tm.Expect(prompt)

	// Ctrl-D in an unfinished chunk says what is missing and starts again.
	tm.Send("for i = 1, 2 do\r")
	tm.Expect(contPrompt)
	tm.Send("\x04")
	tm.Expect(`stdin:1: syntax error at end of input`)
	tm.Expect(prompt)

	if strings.Contains(tm.Output(), "notreached") {
		t.Errorf("the statement went on after Ctrl-C:\n%q", tm.Output())
	}

	// Ctrl-D at an empty prompt ends the shell, successfully.
	tm.Send("\x04")
	if code := tm.Wait(); code != 0 {
		t.Errorf("exit code %d after Ctrl-D, want 0; output:\n%q", code, tm.Output())
	}

	hist, err := os.ReadFile(filepath.Join(home, historyName))
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	for _, want := range []string{"x = 41", "x + 1", "for i = 1, 3 do", `string.upper("abc")`} {
		if !strings.Contains(string(hist), want+"\n") {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
	}
	if fi, err := os.Stat(filepath.Join(home, historyName)); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("history file mode %v, want it private to its owner", fi.Mode().Perm())
	}
}

// Without a terminal, Run reads lines as they come and ends at EOF.
func TestRunWithoutTerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	L := testState(&out)
	defer L.Close()
	in := io.NopCloser(strings.NewReader("x = 41\nx + 1\nfor i = 1, 2 do\nprint('loop', i)\nend\nerror('boom')\nprint('after')\n"))
	err := Run(context.Background(), L, Config{Stdin: in, Stdout: &out, Stderr: &errOut, HistoryFile: filepath.Join(t.TempDir(), "h"), Banner: "not shown"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, want := range []string{"42\n", "loop\t1\nloop\t2\n", "after\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%q", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "stdin:1: boom") {
		t.Errorf("stderr lacks the error:\n%q", errOut.String())
	}
	if strings.Contains(errOut.String(), "\x1b[") || strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour without Config.Color:\n%q\n%q", out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "not shown") {
		t.Errorf("banner printed without a terminal")
	}
	if L.GetTop() != 0 {
		t.Errorf("Lua stack left with %d values", L.GetTop())
	}
}

// The caller's Print receives the values of an expression; the context of
// each statement is set while it runs and removed after.
func TestRunPrintAndContext(t *testing.T) {
	var out, errOut bytes.Buffer
	L := testState(&out)
	defer L.Close()
	var got [][]string
	var ctxSeen bool
	L.SetGlobal("has_ctx", L.NewFunction(func(L *lua.LState) int {
		ctxSeen = L.Context() != nil
		return 0
	}))
	print := func(L *lua.LState, values []lua.LValue) {
		var strs []string
		for _, v := range values {
			strs = append(strs, v.String())
		}
		got = append(got, strs)
	}
	in := io.NopCloser(strings.NewReader("1, 'a'\nhas_ctx()\nlocal t = {} return #t\n"))
	if err := Run(context.Background(), L, Config{Stdin: in, Stdout: &out, Stderr: &errOut, Print: print, HistoryFile: filepath.Join(t.TempDir(), "h")}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"1", "a"}, {"0"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("printed %v, want %v", got, want)
	}
	if !ctxSeen {
		t.Error("no context set while the statement ran")
	}
	if L.Context() != nil {
		t.Error("context left on the state after the statement")
	}
}

// A nested error shows a traceback; an error at the prompt does not.
func TestRunTraceback(t *testing.T) {
	var out, errOut bytes.Buffer
	L := testState(&out)
	defer L.Close()
	in := io.NopCloser(strings.NewReader("error('top')\nfunction f() error('deep') end\nfunction g() f() end\ng()\n"))
	if err := Run(context.Background(), L, Config{Stdin: in, Stdout: &out, Stderr: &errOut, HistoryFile: filepath.Join(t.TempDir(), "h")}); err != nil {
		t.Fatal(err)
	}
	got := errOut.String()
	top, deep, ok := strings.Cut(got, "stdin:1: deep")
	if !ok {
		t.Fatalf("stderr lacks the nested error:\n%s", got)
	}
	if !strings.Contains(top, "stdin:1: top") || strings.Contains(top, "traceback") {
		t.Errorf("top-level error: %q", top)
	}
	if !strings.Contains(deep, "stack traceback:") || !strings.Contains(deep, "in function 'f'") {
		t.Errorf("nested error without a traceback: %q", deep)
	}
}

// Cancelling Run's context ends it with the context's error.
func TestRunContextCancelled(t *testing.T) {
	var out bytes.Buffer
	L := testState(&out)
	defer L.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, L, Config{Stdin: pr, Stdout: &out, Stderr: &out, HistoryFile: filepath.Join(t.TempDir(), "h")})
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of its context's end")
	}
}

// With Config.Color, errors are red.
func TestRunColor(t *testing.T) {
	var out, errOut bytes.Buffer
	L := testState(&out)
	defer L.Close()
	in := io.NopCloser(strings.NewReader("error('boom')\n"))
	if err := Run(context.Background(), L, Config{Stdin: in, Stdout: &out, Stderr: &errOut, Color: true, HistoryFile: filepath.Join(t.TempDir(), "h")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), red+"stdin:1: boom"+reset) {
		t.Errorf("stderr %q: the error is not red", errOut.String())
	}
}

// An error or a value quoting what a container wrote is shown escaped; the
// shell's own colour is not.
func TestRunEscapesErrorsAndValues(t *testing.T) {
	var out, errOut bytes.Buffer
	L := testState(&out)
	defer L.Close()
	L.SetGlobal("name", lua.LString("\x1b]0;TITLE\a\x1b[2J\u009b"))
	in := io.NopCloser(strings.NewReader("error(name)\nname, 1\n"))
	if err := Run(context.Background(), L, Config{Stdin: in, Stdout: &out, Stderr: &errOut, Color: true, HistoryFile: filepath.Join(t.TempDir(), "h")}); err != nil {
		t.Fatal(err)
	}
	if want := red + `stdin:1: \x1b]0;TITLE\a\x1b[2J\u009b` + reset + "\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	if want := `\x1b]0;TITLE\a\x1b[2J\u009b` + "\t1\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}
