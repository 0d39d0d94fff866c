package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func writePlaybook(t *testing.T, dir, name, src string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlaybookTrust(t *testing.T) {
	testengine.NeedRoot(t, "the trust check (applied to root)")
	dir := t.TempDir()
	good := writePlaybook(t, dir, "good.lua", `print("ran")`, 0o644)
	groupW := writePlaybook(t, dir, "groupw.lua", `print("ran")`, 0o664)
	worldW := writePlaybook(t, dir, "worldw.lua", `print("ran")`, 0o646)
	other := writePlaybook(t, dir, "other.lua", `print("ran")`, 0o644)
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.lua")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	mkdir := func(name string, mode os.FileMode) string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	inBadDir := writePlaybook(t, mkdir("open", 0o777), "x.lua", `print("ran")`, 0o644)
	inGroupDir := writePlaybook(t, mkdir("group", 0o775), "x.lua", `print("ran")`, 0o644)
	otherDir := mkdir("other", 0o755)
	inOtherDir := writePlaybook(t, otherDir, "x.lua", `print("ran")`, 0o644)
	if err := os.Chown(otherDir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	// A symlinked directory in the middle of the path, to a trusted one.
	real := mkdir("real", 0o755)
	writePlaybook(t, mkdir(filepath.Join("real", "sub"), 0o755), "x.lua", `print("ran")`, 0o644)
	if err := os.Symlink(real, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	viaLinkDir := filepath.Join(dir, "linkdir", "sub", "x.lua")
	fifo := filepath.Join(dir, "fifo.lua")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	device := filepath.Join(dir, "device.lua")
	if err := unix.Mknod(device, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))); err != nil { // /dev/null's numbers
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock.lua")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	asDir := mkdir("dir.lua", 0o755)
	requires := writePlaybook(t, dir, "requires.lua", `require("groupw") print("ran")`, 0o644)

	for _, tc := range []struct {
		name, path, reason string
		code               int
	}{
		{"trusted", good, "", 0},
		{"group-writable", groupW, "file " + groupW + " is group-writable (mode 0664)", 77},
		{"world-writable", worldW, "file " + worldW + " is world-writable (mode 0646)", 77},
		{"another owner", other, "file " + other + " is owned by uid 65534, not root or the invoking user", 77},
		{"symlink", link, link + " is a symbolic link", 77},
		{"world-writable directory", inBadDir, "directory " + filepath.Dir(inBadDir) + " is world-writable (mode 0777)", 77},
		{"group-writable directory", inGroupDir, "directory " + filepath.Dir(inGroupDir) + " is group-writable (mode 0775)", 77},
		{"directory of another owner", inOtherDir, "directory " + otherDir + " is owned by uid 65534", 77},
		{"symlinked directory", viaLinkDir, "directory " + filepath.Join(dir, "linkdir") + " is a symbolic link", 77},
		{"fifo", fifo, fifo + " is not a regular file (a FIFO)", 77},
		{"device", device, device + " is not a regular file (a character device)", 77},
		{"socket", sock, sock + " is not a regular file (a socket)", 77},
		{"directory", asDir, asDir + " is not a regular file (a directory)", 77},
		{"requires an untrusted module", requires, "groupw", 77},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{{tc.path}, {"run", tc.path}} {
				// A FIFO or device must be refused at once, not read: a
				// hang fails the test here rather than after a minute.
				r := ctrshWithin(t, 10*time.Second, append(os.Environ(), "CTRSH_LOCK_DIR="+t.TempDir()), "", args...)
				if r.code != tc.code {
					t.Errorf("ctrsh %v: exit %d, want %d (stderr %q)", args, r.code, tc.code, r.stderr)
				}
				if tc.code == 0 && r.stdout != "ran\n" {
					t.Errorf("ctrsh %v: stdout %q", args, r.stdout)
				}
				if tc.code != 0 && (!strings.Contains(r.stderr, tc.reason) || strings.Contains(r.stdout, "ran")) {
					t.Errorf("ctrsh %v: stderr %q lacks %q, or it ran (stdout %q)", args, r.stderr, tc.reason, r.stdout)
				}
			}
		})
	}
}

// TestLockDirChecked: the lock directory is used only when it is a
// directory of ctrsh's user that nobody else can write; a lock directory of
// another user, a writable one, or one reached through a symbolic link is
// refused with the reason (exit 77).
func TestLockDirChecked(t *testing.T) {
	testengine.NeedRoot(t, "making a directory of another user")
	dir := t.TempDir()
	pb := writePlaybook(t, dir, "pb.lua", `print("ran")`, 0o644)
	mk := func(name string, mode os.FileMode, uid int) string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, mode)
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
		return d
	}
	good := mk("good", 0o700, 0)
	linked := filepath.Join(dir, "linked")
	if err := os.Symlink(good, linked); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, lockDir, reason string
		code                  int
	}{
		{"ours", good, "", 0},
		{"created inside ours", filepath.Join(good, "new", "locks"), "", 0},
		{"another user's", mk("theirs", 0o700, 65534), "is owned by uid 65534", 77},
		{"world-writable", mk("open", 0o777, 0), "is world-writable", 77},
		{"through a symlink", linked, "is a symbolic link", 77},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ctrshEnv(t, append(os.Environ(), "CTRSH_LOCK_DIR="+tc.lockDir), "", "run", pb)
			if r.code != tc.code || (tc.code == 0 && r.stdout != "ran\n") || !strings.Contains(r.stderr, tc.reason) {
				t.Errorf("lock dir %s: exit %d, stdout %q, stderr %q; want %d and %q", tc.lockDir, r.code, r.stdout, r.stderr, tc.code, tc.reason)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(good, "pb.lock")); err != nil {
		t.Errorf("no lock file in the lock directory: %v", err)
	}
}

// Two runs of one playbook at once: the second exits 75 at once, or with
// --wait runs after the first.
func TestPlaybookLock(t *testing.T) {
	dir := t.TempDir()
	pb := writePlaybook(t, dir, "slow.lua", `io.stdout:write("started\n") io.stdout:flush() sleep(tonumber(arg[1] or "2")) print("done")`, 0o644)
	env := append(os.Environ(), "CTRSH_LOCK_DIR="+t.TempDir())

	first := exec.Command(ctrshBinary(t), "run", pb, "3")
	first.Env = env
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	// No terminal: the lock is on by default for ctrsh run.
	second := ctrshEnv(t, env, "", "run", pb, "0")
	if second.code != 75 || !strings.Contains(second.stderr, "already running") {
		t.Errorf("second run: exit %d, stderr %q; want 75 and a message", second.code, second.stderr)
	}
	waited := ctrshEnv(t, env, "", "run", pb, "0", "--wait", "30s")
	if waited.code != 0 || !strings.Contains(waited.stdout, "done") {
		t.Errorf("run with --wait: exit %d, stdout %q, stderr %q", waited.code, waited.stdout, waited.stderr)
	}
	if err := first.Wait(); err != nil {
		t.Errorf("first run: %v", err)
	}
	// With --no-lock, nothing is held.
	if r := ctrshEnv(t, env, "", "run", pb, "0", "--no-lock"); r.code != 0 {
		t.Errorf("--no-lock: exit %d", r.code)
	}
}

// A cron-like environment: no TTY, no HOME, no PATH. No escape sequences.
func TestRunFromCron(t *testing.T) {
	dir := t.TempDir()
	pb := writePlaybook(t, dir, "cron.lua", `local pb = playbook{description="d", args={{name="who"}}} emit{who=pb.args.who, n=1} print("plain")`, 0o644)
	cmd := exec.Command(ctrshBinary(t), "run", pb, "cron")
	cmd.Env = []string{"CTRSH_LOCK_DIR=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if strings.ContainsRune(stdout.String()+stderr.String(), 0x1b) {
		t.Errorf("escape sequences in output: %q %q", stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "cron") || !strings.Contains(stdout.String(), "plain") {
		t.Errorf("stdout %q", stdout.String())
	}
	cmd = exec.Command(ctrshBinary(t), "run", pb, "cron", "--json")
	cmd.Env = []string{"CTRSH_LOCK_DIR=" + t.TempDir()}
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"n":1,"who":"cron"}`+"\n") {
		t.Errorf("--json stdout %q", b)
	}
}

func TestPlaybooksListAndShow(t *testing.T) {
	r := ctrsh(t, "", "playbooks")
	for _, name := range []string{"pidmap", "inspect-ns", "oomwatch", "top-mem", "top-cpu", "restart-loop", "env-audit", "log-errors", "zombies", "diag-bundle", "health"} {
		if !strings.Contains(r.stdout, name+" ") {
			t.Errorf("ctrsh playbooks lacks %s:\n%s", name, r.stdout)
		}
		h := ctrsh(t, "", "run", name, "--help")
		if h.code != 0 || !strings.Contains(h.stdout, "usage: "+name) {
			t.Errorf("ctrsh run %s --help: exit %d, stdout %q, stderr %q", name, h.code, h.stdout, h.stderr)
		}
	}
	if r := ctrsh(t, "", "playbooks", "show", "pidmap"); r.code != 0 || !strings.Contains(r.stdout, "playbook{") {
		t.Errorf("playbooks show: %d %q", r.code, r.stdout)
	}
	if r := ctrsh(t, "", "run", "no-such-playbook"); r.code != 64 || !strings.Contains(r.stderr, `no playbook "no-such-playbook"`) {
		t.Errorf("unknown playbook: %d %q", r.code, r.stderr)
	}
}

// A FIFO in a playbook directory is listed as refused; the list does not
// wait on it.
func TestPlaybooksListFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mkfifo(filepath.Join(dir, "hang.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := ctrshWithin(t, 10*time.Second, append(os.Environ(), "CTRSH_PLAYBOOK_DIR="+dir), "", "playbooks")
	if r.code != 0 || !strings.Contains(r.stdout, "hang.lua is not a regular file (a FIFO)") || !strings.Contains(r.stdout, "pidmap ") {
		t.Errorf("ctrsh playbooks: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
