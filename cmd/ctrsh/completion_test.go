package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionEnv puts ctrsh on the PATH, as installed, and points it at
// the test engine.
func completionEnv(t *testing.T) []string {
	t.Helper()
	dir := filepath.Dir(ctrshBinary(t))
	return engineEnv(t, "PATH="+dir+":/usr/bin:/bin", "HOME="+t.TempDir())
}

// needShell finds a shell the completion tests drive (fixtures/engine.sh
// installs zsh and fish).
func needShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (fixtures/engine.sh start installs it)", name)
		}
		t.Skipf("%s is missing (apt-get install %s)", name, name)
	}
	return p
}

func shellOut(t *testing.T, env []string, shell string, args ...string) string {
	t.Helper()
	cmd := exec.Command(shell, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", shell, args, err, out)
	}
	return string(out)
}

// bash: the script loads, and its function completes playbook names after
// `ctrsh run` and container names after `ctrsh nsenter -t`, as bash calls
// it on Tab (COMP_WORDS, COMP_CWORD).
func TestCompletionBash(t *testing.T) {
	name := fmt.Sprintf("we-%d-compl", os.Getpid())
	startBusybox(t, name, "sleep", "1000")
	startBusybox(t, fmt.Sprintf("other-%d-compl", os.Getpid()), "sleep", "1000")
	env := completionEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.lua"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "x.txt"), nil, 0o644)
	if out := shellOut(t, env, "bash", "-c", "source <(ctrsh completion bash); complete -p ctrsh"); strings.TrimSpace(out) != "complete -F _ctrsh ctrsh" {
		t.Errorf("complete -p ctrsh: %q", out)
	}
	tab := func(words ...string) []string {
		script := fmt.Sprintf(`cd `+dir+` && source <(ctrsh completion bash); COMP_WORDS=(%s); COMP_CWORD=%d; _ctrsh; printf '%%s\n' "${COMPREPLY[@]}"`,
			quoteWords(words), len(words)-1)
		return strings.Fields(shellOut(t, env, "bash", "-c", script))
	}
	if got := tab("ctrsh", "run", "pid"); strings.Join(got, " ") != "pidmap" {
		t.Errorf("ctrsh run pid<TAB>: %q, want pidmap", got)
	}
	got := tab("ctrsh", "nsenter", "-t", "we")
	if !contains(got, name) {
		t.Errorf("ctrsh nsenter -t we<TAB>: %q, want %s among them", got, name)
	}
	for _, c := range got {
		if !strings.HasPrefix(c, "we") {
			t.Errorf("ctrsh nsenter -t we<TAB> offers %q", c)
		}
	}
	for words, want := range map[string]string{
		"ctrsh to":                  "top",
		"ctrsh top --so":            "--sort",
		"ctrsh top --sort m":        "mem",
		"ctrsh completion z":        "zsh",
		"ctrsh fleet r":             "run",
		"ctrsh fleet run oomw":      "oomwatch",
		"ctrsh playbooks show diag": "diag-bundle",
		"ctrsh --ti":                "--timeout",
		"ctrsh nsenter --join":      "--join-cgroup",
	} {
		if got := tab(strings.Fields(words)...); strings.Join(got, " ") != want {
			t.Errorf("%s<TAB>: %q, want %q", words, got, want)
		}
	}
}

// A hostile engine or a dead one: nothing but names the engine allows, and
// a Tab that returns at once when it does not answer.
func TestCompletionWithoutEngine(t *testing.T) {
	env := append(completionEnv(t), "DOCKER_HOST=unix:///nonexistent/docker.sock")
	r := ctrshEnv(t, env, "", "__complete", "nsenter", "-t", "")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("no engine: code %d, %q", r.code, r.stdout)
	}
}

// zsh: the script registers _ctrsh for ctrsh with compinit, and is valid.
func TestCompletionZsh(t *testing.T) {
	zsh := needShell(t, "zsh")
	env := completionEnv(t)
	out := shellOut(t, env, zsh, "-c", "autoload -U compinit && compinit -u -D && source <(ctrsh completion zsh) && print -r -- $_comps[ctrsh]")
	if strings.TrimSpace(out) != "_ctrsh" {
		t.Errorf("zsh: _comps[ctrsh] = %q", out)
	}
	f := filepath.Join(t.TempDir(), "_ctrsh")
	os.WriteFile(f, []byte(shellOut(t, env, ctrshBinary(t), "completion", "zsh")), 0o644)
	shellOut(t, env, zsh, "-n", f)
}

// fish: its own completer (complete -C) completes through the script.
func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	env := append(completionEnv(t), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	out := shellOut(t, env, fish, "--no-config", "-c", "ctrsh completion fish | source; complete -C 'ctrsh run pid'; complete -C 'ctrsh top --sort p'")
	if got := strings.Fields(out); strings.Join(got, " ") != "pidmap pids" {
		t.Errorf("fish: %q, want pidmap and pids", out)
	}
}

func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
