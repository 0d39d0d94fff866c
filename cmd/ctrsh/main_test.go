package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ctrshBinary builds the ctrsh binary once per test run and returns its path.
func ctrshBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ctrsh-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ctrsh")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building ctrsh: %v", buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// ctrsh runs the binary with args and stdin, bounded so a test fails
// instead of hanging.
func ctrsh(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return ctrshEnv(t, nil, stdin, args...)
}

func ctrshEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	return ctrshWithin(t, 60*time.Second, env, stdin, args...)
}

// ctrshWithin is ctrshEnv with a bound of its own: the test fails when the
// run takes longer than limit.
func ctrshWithin(t *testing.T, limit time.Duration, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctrshBinary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		t.Fatalf("ctrsh %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("ctrsh %v did not finish in %v", args, limit)
	}
	return result{code, stdout.String(), stderr.String()}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	panicky := filepath.Join(dir, "args.lua")
	if err := os.WriteFile(panicky, []byte("print(arg[0], arg[1], arg[2], select('#', ...))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		code       int
		stdout     string
		stderrHas  []string
		stdoutExct bool
	}{
		{name: "print", args: []string{"-e", "print(1+1)"}, code: 0, stdout: "2\n", stdoutExct: true},
		{name: "stdin script", stdin: "print(40+2)\n", code: 0, stdout: "42\n", stdoutExct: true},
		{name: "error", args: []string{"-e", `error("boom")`}, code: 1, stderrHas: []string{"boom", "(command line):1:"}},
		{name: "assert", args: []string{"-e", `assert(nil, "no such container")`}, code: 1, stderrHas: []string{"no such container"}},
		{name: "finding", args: []string{"-e", `fail("disk full")`}, code: 3, stderrHas: []string{"disk full"}},
		{name: "usage", args: []string{"--bogus"}, code: 64, stderrHas: []string{"bogus"}},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.lua")}, code: 64, stderrHas: []string{"nope.lua"}},
		{name: "syntax", args: []string{"-e", "x ="}, code: 65},
		{name: "syntax in file piped", stdin: "for i = 1, 3 do\n", code: 65},
		{name: "json", args: []string{"--json", "-e", "emit{a=1}"}, code: 0, stdout: "{\"a\":1}\n", stdoutExct: true},
		{name: "timeout", args: []string{"--timeout", "1s", "-e", "while true do end"}, code: 124, stderrHas: []string{"timeout"}},
		{name: "timeout in sleep", args: []string{"--timeout", "200ms", "-e", "sleep(30)"}, code: 124},
		{name: "file args", args: []string{panicky, "a", "b"}, code: 0, stdout: panicky + "\ta\tb\t2\n", stdoutExct: true},
		{name: "version", args: []string{"--version"}, code: 0, stdout: "ctrsh "},
		{name: "help", args: []string{"--help"}, code: 0, stdout: "usage: ctrsh"},
		{name: "playbook help", args: []string{"-e", `playbook{description="checks", args={{name="container", help="name or id"}}}`, "--help"}, code: 0, stdout: "container"},
		{name: "playbook missing arg", args: []string{"-e", `playbook{args={{name="container", help="name or id"}}}`}, code: 64, stderrHas: []string{`missing argument "container"`}},
		{name: "safe", args: []string{"--safe", "-e", `io.open("/etc/hostname")`}, code: 1, stderrHas: []string{"io.open is not available with --safe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ctrsh(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.stdoutExct && r.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			} else if !strings.Contains(r.stdout, tc.stdout) {
				t.Errorf("stdout %q lacks %q", r.stdout, tc.stdout)
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr %q lacks %q", r.stderr, s)
				}
			}
			if tc.code != 0 && !strings.HasPrefix(r.stderr, "ctrsh: ") && tc.name != "usage" {
				t.Errorf("stderr %q is not prefixed \"ctrsh: \"", r.stderr)
			}
		})
	}
}

// A Go panic inside a builtin is caught at the boundary: exit 70, no trace
// of Go's panic output.
func TestInternalErrorExitCode(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ctrsh-hooks")
	if out, err := exec.Command("go", "build", "-tags", "ctrsh_testhooks", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-e", `_ctrsh_panic("kaboom")`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 70 {
		t.Fatalf("got %v, want exit status 70 (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "ctrsh: internal error") || !strings.Contains(stderr.String(), "kaboom") {
		t.Errorf("stderr %q", stderr.String())
	}
	if strings.Contains(stderr.String(), "goroutine ") {
		t.Errorf("a Go stack trace reached the user: %q", stderr.String())
	}
}

// A SIGTERM cancels the run, which exits 128+15 after cleaning up.
func TestSignalExitCode(t *testing.T) {
	cmd := exec.Command(ctrshBinary(t), "-e", `print("ready") io.stdout:flush() sleep(30)`)
	var stdout bytes.Buffer
	pr, pw, _ := os.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	buf := make([]byte, 16)
	if _, err := pr.Read(buf); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 143 {
		t.Errorf("after SIGTERM: %v, want exit status 143 (stderr %q)", err, stdout.String())
	}
}

// A script's loops compile right (luax/compile.go): the loop, from
// -e, a file and standard input.
func TestScriptLoopStartingWithBreak(t *testing.T) {
	src := "local function gen() local i = 0 return function() i = i + 1 if i < 5 then return i end end end\n" +
		"local n = 0\nfor i = 1, 120 do for l in gen() do break end; if i % 50 == 0 then n = n + 1 end end\nprint(n)"
	file := filepath.Join(t.TempDir(), "loop.lua")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]result{
		"-e":    ctrsh(t, "", "-e", src),
		"file":  ctrsh(t, "", file),
		"stdin": ctrsh(t, src),
	} {
		if r.code != 0 || r.stdout != "2\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2", name, r.code, r.stdout, r.stderr)
		}
	}
}
