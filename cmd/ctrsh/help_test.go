package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// help("oom") finds the cgroup functions about OOM kills and the playbooks
// that watch for them; a word nothing mentions says so.
func TestHelpSearchesDocsAndPlaybooks(t *testing.T) {
	r := ctrshEnv(t, []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}, "", "-e", `help("oom")`)
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"cg:oom_kills() --> count", "cg:watch_oom(fn", "cg:memory() --> {", "trace.oom{",
		"playbooks that mention \"oom\"", "\n  oomwatch ", "\n  oom-victims ", "\n  top-mem ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help(\"oom\") lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, not := range []string{"docker.ping()", "\n  pidmap "} {
		if strings.Contains(r.stdout, not) {
			t.Errorf("help(\"oom\") lists %q, which does not mention it:\n%s", not, r.stdout)
		}
	}
	r = ctrshEnv(t, []string{"HOME=" + t.TempDir()}, "", "-e", `help("zzyzx") help("docker.ping")`)
	if !strings.Contains(r.stdout, `no function, module or playbook mentions "zzyzx"`) || !strings.Contains(r.stdout, "docker.ping() --> true") {
		t.Errorf("help(\"zzyzx\") help(\"docker.ping\"):\n%s", r.stdout)
	}
}

var updateMan = flag.Bool("update-man", false, "rewrite ctrsh.1 from the help text (make man)")

// ctrsh.1 is made from the structure ctrsh --help prints: the committed one
// must be what that structure makes now.
func TestManPageIsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "ctrsh.1")
	page := manPage()
	if *updateMan {
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != page {
		t.Errorf("ctrsh.1 differs from the help text it is made from: run make man")
	}
}

// What --help says is in the manual, and `man ./ctrsh.1` renders it.
func TestManPageRenders(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("man is missing (fixtures/engine.sh start installs man-db)")
		}
		t.Skip("man is missing (apt-get install man-db)")
	}
	cmd := exec.Command(man, "./ctrsh.1")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100", "LANG=C.UTF-8", "MAN_KEEP_FORMATTING=0"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man ./ctrsh.1: %v\n%s", err, out)
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // overstrike bold
	text = strings.Join(strings.Fields(text), " ")
	help := ctrsh(t, "", "--help")
	var want []string
	for _, s := range synopses {
		want = append(want, s.Line)
	}
	globalFlags().VisitAll(func(f *flag.Flag) { want = append(want, flagName(f.Name), f.Usage[:min(40, len(f.Usage))]) })
	want = append(want, "ctrsh top", "--interval", "ctrsh completion", "ctrsh nsenter", "--join-cgroup", "ctrsh fleet",
		"--no-lock", "EXIT STATUS", "another run of the same playbook holds the lock", "DOCKER_HOST", "/etc/ctrsh/playbooks/NAME.lua")
	for _, w := range want {
		if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("man ./ctrsh.1 does not show %q", w)
		}
		if strings.HasPrefix(w, "ctrsh ") && !strings.Contains(help.stdout, w) {
			t.Errorf("ctrsh --help does not show %q", w)
		}
	}
	if t.Failed() {
		t.Logf("man ./ctrsh.1:\n%s", text)
	}
}
