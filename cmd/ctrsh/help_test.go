package main

import (
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
