package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// make install DESTDIR=... PREFIX=/usr puts the binary, ctrsh.1 and the
// three completions where distributions have them, with their modes.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is missing")
	}
	dest := t.TempDir()
	bin := filepath.Join(t.TempDir(), "ctrsh")
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "PREFIX=/usr", "BIN="+bin)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	man, _ := os.ReadFile(filepath.Join("..", "..", "ctrsh.1"))
	want := map[string]struct {
		mode os.FileMode
		body string
	}{
		"usr/bin/ctrsh":                                  {0o755, ""},
		"usr/share/man/man1/ctrsh.1":                     {0o644, string(man)},
		"usr/share/bash-completion/completions/ctrsh":    {0o644, completionScripts["bash"]},
		"usr/share/zsh/site-functions/_ctrsh":            {0o644, completionScripts["zsh"]},
		"usr/share/fish/vendor_completions.d/ctrsh.fish": {0o644, completionScripts["fish"]},
	}
	for path, w := range want {
		p := filepath.Join(dest, path)
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("make install: %v", err)
			continue
		}
		if fi.Mode().Perm() != w.mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), w.mode)
		}
		if b, _ := os.ReadFile(p); w.body != "" && string(b) != w.body {
			t.Errorf("%s is not what it should hold", path)
		}
	}
	out, err := exec.Command(filepath.Join(dest, "usr/bin/ctrsh"), "--version").CombinedOutput()
	if err != nil {
		t.Errorf("the installed ctrsh --version: %v %s", err, out)
	}
}
