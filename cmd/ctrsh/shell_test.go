package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// TestInteractiveShell types at ctrsh on a real pseudo-terminal as a person
// would: an assignment, an expression, a multi-line for loop, Tab
// completions, Ctrl-C during sleep(30), and Ctrl-D.
func TestInteractiveShell(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm", "NO_COLOR=1"}
	st := ptytest.Start(t, cmd)

	const (
		prompt     = `ctrsh> `
		contPrompt = `   \.\.\.> `
	)
	st.Expect(prompt)

	st.Send("x = 41\r")
	st.Expect(prompt)
	st.Send("x + 1\r")
	st.Expect(`\n42\r?\n`)
	st.Expect(prompt)

	st.Send("for i = 1, 3 do\r")
	st.Expect(contPrompt)
	st.Send("print(i * 10)\r")
	st.Expect(contPrompt)
	st.Send("end\r")
	st.Expect(`\n10\r?\n20\r?\n30\r?\n`)
	st.Expect(prompt)

	// string.up<TAB> completes to string.upper: the line then runs it
	// (ABC appears nowhere in what was typed).
	st.Send("string.up")
	st.Expect(`string\.up`)
	st.Send("\t")
	st.Expect(`string\.upper`)
	st.Send(`("abc")` + "\r")
	st.Expect(`ABC`)
	st.Expect(prompt)

	// A module field: json.enc<TAB> → json.encode.
	st.Send("print(json.enc")
	st.Expect(`json\.enc`)
	st.Send("\t")
	st.Expect(`json\.encode`)
	st.Send("({a=1}))\r")
	st.Expect(`\n\{"a":1\}\r?\n`)
	st.Expect(prompt)

	// An error prints with its location; the shell goes on.
	st.Send(`error("boom")` + "\r")
	st.Expect(`stdin:1: boom`)
	st.Expect(prompt)

	// Ctrl-C during sleep(30) stops that statement only. 1042 is printed
	// once the statement runs (the terminal is then out of raw mode, so
	// Ctrl-C is the terminal's SIGINT).
	st.Send("print(1000 + 42) sleep(30) print('not' .. 'reached')\r")
	st.Expect(`\n1042\r?\n`)
	st.Send("\x03")
	st.Expect(`interrupted`)
	st.Expect(prompt)
	st.Send(`print("aft" .. "er")` + "\r")
	st.Expect(`\nafter\r?\n`)
	st.Expect(prompt)
	if strings.Contains(st.Output(), "notreached") {
		t.Errorf("the statement went on after Ctrl-C:\n%q", st.Output())
	}

	// Ctrl-D at an empty prompt: ctrsh exits 0.
	st.Send("\x04")
	if code := st.Wait(); code != 0 {
		t.Errorf("ctrsh exited %d after Ctrl-D, want 0; output:\n%q", code, st.Output())
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

// In the shell, an interactive c:enter has the terminal: Ctrl-C reaches the
// entered command as a terminal's Ctrl-C does (it stops the sleep the sh
// inside runs, and the sh goes on), not the statement, and the ctrsh prompt
// comes back when the sh exits.
func TestShellEnterOwnsCtrlC(t *testing.T) {
	testengine.NeedRoot(t, "entering namespaces")
	name := fmt.Sprintf("shell-enter-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm", "NO_COLOR=1",
		"DOCKER_HOST=" + testengine.Host(t), "CTRSH_AUDIT_FILE=" + filepath.Join(t.TempDir(), "audit.jsonl")}
	st := ptytest.Start(t, cmd)
	const prompt = `ctrsh> `
	st.Expect(prompt)
	st.Send(fmt.Sprintf("c = docker.container(%q)\r", name))
	st.Expect(prompt)
	st.Send(`r = c:enter{"sh"}` + "\r")
	st.Expect(`/ # `)

	st.Send("sleep 30\r")
	for deadline := time.Now().Add(5 * time.Second); len(processesIn(t, id, "sleep", "30")) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sleep 30 never ran in the container; output:\n%q", st.Output())
		}
	}
	st.Send("\x03")
	st.Expect(`/ # `) // the sleep stopped, the sh is still there
	if left := waitGone(t, id, 2*time.Second, "sleep", "30"); len(left) > 0 {
		t.Errorf("Ctrl-C did not reach the sleep inside (host PIDs %v)", left)
	}
	// Longer than any grace a cancelled entry would get: the sh lives on.
	st.Send("sleep 6; echo alive-$((40+2))\r")
	st.Expect(`alive-42`)
	st.Expect(`/ # `)
	st.Send("exit\r")
	st.Expect(prompt)
	st.Send(`print("back", r.code)` + "\r")
	st.Expect(`back\s+0`)
	st.Expect(prompt)

	// A command without job control of its own: Ctrl-C reaches it (it dies
	// of SIGINT) and the statement goes on to print its code.
	st.Send(`r = c:enter{"sleep", "31"} print("code", r.code)` + "\r")
	for deadline := time.Now().Add(5 * time.Second); len(processesIn(t, id, "sleep", "31")) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sleep 31 never ran in the container; output:\n%q", st.Output())
		}
	}
	st.Send("\x03")
	st.Expect(`code\s+130`)
	st.Expect(prompt)
	if strings.Contains(st.Output(), "interrupted") {
		t.Errorf("Ctrl-C interrupted the statement instead of reaching the command:\n%q", st.Output())
	}
	st.Send("\x04")
	if code := st.Wait(); code != 0 {
		t.Errorf("ctrsh exited %d after Ctrl-D; output:\n%q", code, st.Output())
	}
}

// TestShellPcallAndStdin types the snippets of issue 11 at the shell, then
// statements that read the standard input: it is the terminal, read with
// readline paused, a line as typed, Ctrl-D ending it, Ctrl-C stopping a
// statement that waits for it.
func TestShellPcallAndStdin(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(ctrshBinary(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm", "NO_COLOR=1"}
	st := ptytest.Start(t, cmd)
	const prompt = `ctrsh> `
	st.Expect(prompt)

	// gopher-lua #448: pcall used to break the upvalues of the statement.
	st.Send(`local n = 0 local function try(f, ...) n = n + 1; return pcall(f, ...) end try(error, "x"); try(error, "y"); try(error, "z") print("n=" .. n)` + "\r")
	st.Expect(`\nn=3\r?\n`)
	st.Expect(prompt)
	st.Send(`local a local function use() return a("ok") end pcall(function() error("boom") end) a = function(s) return s end print("use=" .. use())` + "\r")
	st.Expect(`\nuse=ok\r?\n`)
	st.Expect(prompt)
	st.Send(`local a local function use() return a("ok") end xpcall(function() error("boom") end, debug.traceback) a = function(s) return s .. "!" end print("use=" .. use())` + "\r")
	st.Expect(`\nuse=ok!\r?\n`)
	st.Expect(prompt)

	// io.read() reads a line from the terminal.
	st.Send(`io.write("na" .. "me? ") local l = io.read() print("got " .. l:upper())` + "\r")
	st.Expect(`name\? `)
	st.Send("hello\r")
	st.Expect(`\ngot HELLO\r?\n`)
	st.Expect(prompt)

	// Formats: numbers, the rest of their line, then a line with its
	// newline.
	// (What is typed before the statement reads goes to readline: wait for
	// the statement to ask, with a prompt that the echo of the statement
	// does not contain.)
	st.Send(`io.write("num" .. "bers? ") local a, b, rest = io.read("n", "n", "L") print("sum=" .. a + b .. " rest=" .. #rest) print("len=" .. #io.stdin:read("L"))` + "\r")
	st.Expect(`numbers\? `)
	st.Send("40 0x2\r")
	st.Expect(`\nsum=42 rest=1\r?\n`)
	st.Send("abc\r")
	st.Expect(`len=4\r?\n`)
	st.Expect(prompt)

	// io.lines() until Ctrl-D.
	st.Send(`print("li" .. "nes?") for l in io.lines() do print("line:" .. l) end print("lines done")` + "\r")
	st.Expect(`\nlines\?\r?\n`)
	st.Send("one\r")
	st.Expect(`\nline:one\r?\n`)
	st.Send("two\r")
	st.Expect(`line:two\r?\n`)
	st.Send("\x04")
	st.Expect(`lines done\r?\n`)
	st.Expect(prompt)

	// Ctrl-C stops a statement that waits for input; what is typed next
	// goes to the shell.
	st.Send(`io.write("wa" .. "it> ") local l = io.read() print("went" .. "on")` + "\r")
	st.Expect(`wait> `)
	time.Sleep(100 * time.Millisecond) // the statement is waiting
	st.Send("\x03")
	st.Expect(`interrupted`)
	st.Expect(prompt)
	st.Send("print(6 * 7)\r")
	st.Expect(`\n42\r?\n`)
	st.Expect(prompt)

	st.Send("\x04")
	if code := st.Wait(); code != 0 {
		t.Errorf("ctrsh exited %d after Ctrl-D, want 0; output:\n%q", code, st.Output())
	}
	if strings.Contains(st.Output(), "wenton") {
		t.Errorf("the interrupted read went on:\n%q", st.Output())
	}
}
