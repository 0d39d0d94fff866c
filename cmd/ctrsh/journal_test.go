package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func TestParseDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "0.5d": 12 * time.Hour, "10s": 10 * time.Second, "0": 0, "1h30m": 90 * time.Minute} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "x", "-5s"} {
		if _, err := parseDays(bad); err == nil {
			t.Errorf("parseDays(%q): no error", bad)
		}
	}
}

// Usage errors exit 64 naming the flag; --help prints the usage.
func TestJournalUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		has  string
	}{
		{[]string{"journal"}, 64, "usage: ctrsh journal record"},
		{[]string{"journal", "play"}, 64, `unknown command "play"`},
		{[]string{"journal", "record", "--retain", "forever"}, 64, "--retain"},
		{[]string{"journal", "record", "--max-size", "lots"}, 64, "--max-size"},
		{[]string{"journal", "record", "--sample", "-1s"}, 64, "--sample"},
		{[]string{"journal", "record", "--bogus"}, 64, "bogus"},
		{[]string{"journal", "record", "extra"}, 64, `unexpected argument "extra"`},
		{[]string{"journal", "record", "--help"}, 0, "usage: ctrsh journal record"},
	} {
		r := ctrsh(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.has) {
			t.Errorf("ctrsh %s: exit %d, output %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stdout+r.stderr, tc.code, tc.has)
		}
	}
}

// One recorder per database: a second exits 75 naming the first's pid;
// SIGTERM stops the first with 0.
func TestJournalRecordLock(t *testing.T) {
	testengine.NeedRoot(t, "the recorder reads cgroups and /dev/kmsg")
	host := testengine.Host(t)
	path := filepath.Join(t.TempDir(), "journal.db")
	first := exec.Command(ctrshBinary(t), "journal", "record", "--db", path, "--host", host)
	var stderr bytes.Buffer
	var mu sync.Mutex
	first.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stderr.Write(p) })
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := strings.Contains(stderr.String(), "recording")
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first recorder did not start: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := ctrshEnv(t, append(os.Environ(), "DOCKER_HOST="+host), "", "journal", "record", "--db", path)
	if r.code != 75 || !strings.Contains(r.stderr, "another recorder holds it") || !strings.Contains(r.stderr, "pid") {
		t.Errorf("second recorder: exit %d, stderr %q; want 75 naming the holder", r.code, r.stderr)
	}
	first.Process.Signal(syscall.SIGTERM)
	err := first.Wait()
	if err != nil {
		t.Errorf("the first recorder after SIGTERM: %v (stderr %s)", err, stderr.String())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v, want 0600", path, fi, err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
