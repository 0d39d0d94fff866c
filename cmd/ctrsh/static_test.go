package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// make static builds a binary that ldd calls not dynamic, and its cgo
// entry constructor works: ctrsh nsenter into a test container.
func TestMakeStatic(t *testing.T) {
	testengine.NeedRoot(t, "ctrsh nsenter")
	bin := filepath.Join(t.TempDir(), "ctrsh-static")
	make := exec.Command("make", "-s", "static", "STATIC_BIN="+bin, "VERSION=static-test")
	make.Dir = filepath.Join("..", "..")
	if out, err := make.CombinedOutput(); err != nil {
		t.Fatalf("make static: %v\n%s", err, out)
	}
	out, err := exec.Command("ldd", bin).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("ldd %s: %v: %s", bin, err, out)
	}
	if interp := elfInterpreter(bin); interp != "" {
		t.Errorf("program interpreter %q", interp)
	}
	name := fmt.Sprintf("static-%d", time.Now().UnixNano())
	startBusybox(t, name, "sleep", "1000")
	cmd := exec.Command(bin, "nsenter", "-t", name, "-m", "-u", "-p", "--", "hostname")
	cmd.Env = engineEnv(t, "CTRSH_AUDIT_FILE="+filepath.Join(t.TempDir(), "audit"))
	out, err = cmd.CombinedOutput()
	if err != nil || string(out) != name+"\n" {
		t.Errorf("static ctrsh nsenter -t %s -- hostname: %v: %q", name, err, out)
	}
	if out, _ := exec.Command(bin, "--version").Output(); string(out) != "ctrsh static-test\n" {
		t.Errorf("--version %q", out)
	}
}
