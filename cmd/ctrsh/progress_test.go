package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctrsh/ctrsh/repl/ptytest"
)

// Work over many containers that takes more than a second shows one line
// on a terminal's stderr: docker.stats{interval=}, the diag-bundle
// playbook, progress() itself. It is erased before the data, and absent
// when stderr is not a terminal.
func TestProgressOnATerminalOnly(t *testing.T) {
	startBusybox(t, fmt.Sprintf("prog-%d", os.Getpid()), "sleep", "1000")
	dir := t.TempDir()
	env := engineEnv(t, "HOME="+t.TempDir(), "TERM=xterm", "NO_COLOR=1", "CTRSH_AUDIT_FILE="+filepath.Join(dir, "audit"))
	const stats = `local s = assert(docker.stats{interval = 1.8}) print("rows=" .. #s)`
	run := func(args []string, stderr *bytes.Buffer) string {
		cmd := exec.Command(ctrshBinary(t), args...)
		cmd.Env, cmd.Dir = env, dir
		if stderr != nil {
			cmd.Stderr = stderr
		}
		st := ptytest.Start(t, cmd)
		if code := st.Wait(); code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, code, st.Output())
		}
		return st.Output()
	}

	out := run([]string{"-e", stats}, nil)
	if !strings.Contains(out, "docker.stats: ") || !strings.Contains(out, " containers, 1.") {
		t.Errorf("no progress line for docker.stats{interval = 1.8}:\n%q", out)
	}
	if !strings.Contains(out, "\r\x1b[Krows=") {
		t.Errorf("the line is not erased before the data:\n%q", out)
	}

	out = run([]string{"run", "diag-bundle", fmt.Sprintf("prog-%d", os.Getpid()), "--dir", filepath.Join(dir, "bundle")}, nil)
	if !strings.Contains(out, "diag-bundle: ") {
		t.Errorf("no progress line for diag-bundle:\n%q", out)
	}

	var stderr bytes.Buffer
	out = run([]string{"-e", stats + ` for i = 0, 4 do progress(i, 4, "step") sleep(0.3) end`}, &stderr)
	if strings.Contains(out+stderr.String(), "docker.stats: ") || strings.Contains(out+stderr.String(), "step ") {
		t.Errorf("a progress line with stderr not a terminal:\nstdout %q\nstderr %q", out, stderr.String())
	}

	// Standard output a pipe: the data holds no progress, the terminal does.
	cmd := exec.Command(ctrshBinary(t), "-e", stats)
	cmd.Env = env
	var data bytes.Buffer
	cmd.Stdout = &data
	st := ptytest.Start(t, cmd)
	st.Wait()
	if !strings.Contains(st.Output(), "docker.stats: ") || strings.Contains(data.String(), "docker.stats") || strings.Contains(data.String(), "\x1b") {
		t.Errorf("terminal %q, data %q", st.Output(), data.String())
	}
}
