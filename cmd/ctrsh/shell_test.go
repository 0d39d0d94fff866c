package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
