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

// requireDirs makes a working directory and a playbook directory, each with
// modules that write a marker file when loaded: m.lua world-writable in
// both, ok.lua trusted in the playbook directory. It returns the two
// directories and the marker's path.
func requireDirs(t *testing.T) (cwd, pbDir, marker string) {
	t.Helper()
	root := t.TempDir()
	cwd, pbDir = filepath.Join(root, "cwd"), filepath.Join(root, "playbooks")
	marker = filepath.Join(root, "loaded")
	for _, d := range []string{cwd, pbDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mark := fmt.Sprintf(`local f = assert(io.open(%q, "a")) f:write(...) f:close() return "loaded"`, marker)
	writePlaybook(t, cwd, "m.lua", mark, 0o666)
	writePlaybook(t, pbDir, "m.lua", mark, 0o666)
	writePlaybook(t, cwd, "cwdonly.lua", mark, 0o644)
	writePlaybook(t, pbDir, "ok.lua", mark, 0o644)
	return cwd, pbDir, marker
}

// TestRequireTrustEveryEntry: as root, require never searches the current
// directory or LUA_PATH, and refuses an untrusted module of a playbook
// directory with exit 77 — from a script file, -e and standard input alike.
func TestRequireTrustEveryEntry(t *testing.T) {
	testengine.NeedRoot(t, "the trust check (applied to root)")
	cwd, pbDir, marker := requireDirs(t)
	env := append(os.Environ(), "CTRSH_LOCK_DIR="+t.TempDir(), "CTRSH_PLAYBOOK_DIR="+pbDir,
		"LUA_PATH="+cwd+"/?.lua;;")
	script := writePlaybook(t, t.TempDir(), "script.lua", `require(arg[1]) print("ran")`, 0o644)
	entries := []struct {
		name  string
		stdin string
		args  func(mod string) []string
	}{
		{"-e", "", func(mod string) []string { return []string{"-e", `require(arg[1]) print("ran")`, mod} }},
		{"stdin", `require(...) print("ran")`, nil},
		{"file", "", func(mod string) []string { return []string{script, mod} }},
	}
	for _, e := range entries {
		for _, tc := range []struct {
			mod, reason string
			code        int
		}{
			{"m", "world-writable", 77},
			{"cwdonly", "not searched as root", 1},
			{"ok", "", 0},
		} {
			t.Run(e.name+"/"+tc.mod, func(t *testing.T) {
				os.Remove(marker)
				var cmd *exec.Cmd
				if e.args != nil {
					cmd = exec.Command(ctrshBinary(t), e.args(tc.mod)...)
				} else {
					// ctrsh < file: the chunk's ... is empty, so the module name is in the source.
					cmd = exec.Command(ctrshBinary(t))
					cmd.Stdin = strings.NewReader(strings.Replace(e.stdin, "...", fmt.Sprintf("%q", tc.mod), 1))
				}
				cmd.Dir, cmd.Env = cwd, env
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatal(err)
				}
				_, loaded := os.Stat(marker)
				if code != tc.code || (tc.code != 0) == (loaded == nil) {
					t.Errorf("exit %d (want %d), module loaded: %v; stdout %q, stderr %q", code, tc.code, loaded == nil, stdout.String(), stderr.String())
				}
				if tc.code != 0 && (!strings.Contains(stderr.String(), tc.reason) || !strings.Contains(stderr.String(), tc.mod)) {
					t.Errorf("stderr %q lacks %q", stderr.String(), tc.reason)
				}
			})
		}
	}
}

// TestRequireTrustInShell: the shell's require is the same trusted one.
func TestRequireTrustInShell(t *testing.T) {
	testengine.NeedRoot(t, "the trust check (applied to root)")
	cwd, pbDir, marker := requireDirs(t)
	cmd := exec.Command(ctrshBinary(t))
	cmd.Dir = cwd
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm", "NO_COLOR=1",
		"CTRSH_PLAYBOOK_DIR=" + pbDir, "LUA_PATH=" + cwd + "/?.lua"}
	st := ptytest.Start(t, cmd)
	st.Expect(`ctrsh> `)
	st.Send(`require "m"` + "\r")
	st.Expect(`world-writable`)
	st.Expect(`ctrsh> `)
	st.Send(`require "cwdonly"` + "\r")
	st.Expect(`not searched as root`)
	st.Expect(`ctrsh> `)
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("the shell loaded an untrusted module; output:\n%q", st.Output())
	}
	st.Send(`require "ok"` + "\r")
	st.Expect(`\n"loaded"`)
	st.Expect(`ctrsh> `)
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the shell did not load a trusted module; output:\n%q", st.Output())
	}
	st.Send("\x04")
	st.Wait()
}

// TestRequireInRunChild: a chunk run inside a container (c:run) loads no
// module file of the container, where it runs as root with ctrsh's
// capabilities: not from its working directory (the container's /), nor
// from LUA_PATH's usual directories.
func TestRequireInRunChild(t *testing.T) {
	testengine.NeedRoot(t, "c:run")
	name := fmt.Sprintf("req-%d", time.Now().UnixNano())
	id := startBusybox(t, name, "sleep", "1000")
	testengine.MustDocker(t, "exec", id, "sh", "-c",
		`mkdir -p /usr/local/share/lua/5.1 && for f in /m.lua /usr/local/share/lua/5.1/m.lua; do echo 'return "loaded from the container"' > $f; chmod 666 $f; done`)
	src := fmt.Sprintf(`local c = assert(docker.container(%q))
		print(c:run[[ local ok, err = pcall(require, "m") return tostring(ok) .. ": " .. tostring(err) ]])
		print(c:run[[ return require("string") == string, require("proc") == proc ]])`, name)
	r := ctrshEnv(t, engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit")), "", "-e", src)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "false: ") || strings.Contains(r.stdout, "loaded from the container") ||
		!strings.Contains(r.stdout, "not searched") {
		t.Errorf("require inside c:run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "true\ttrue\n") {
		t.Errorf("ctrsh's own modules inside c:run: stdout %q", r.stdout)
	}
}
