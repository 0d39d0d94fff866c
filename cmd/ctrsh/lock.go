package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/trust"
)

// errLocked means another run of the same playbook holds its lock (exit 75).
var errLocked = errors.New("locked")

// lockDir holds the per-playbook locks: /run/ctrsh/locks for root, else
// $XDG_RUNTIME_DIR/ctrsh/locks or the temp dir.
func lockDir() string {
	if d := os.Getenv("CTRSH_LOCK_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/run/ctrsh/locks"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ctrsh", "locks")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ctrsh-%d", os.Getuid()), "locks")
}

// unsafeLockChars matches what a lock file's name may not hold. It is
// compiled on first use, not at the start of every ctrsh run.
var unsafeLockChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// acquireLock takes the lock of a playbook. With wait > 0 it retries until
// wait has passed or ctx ends; otherwise a held lock fails at once with
// errLocked. The lock is released when the process exits, however it exits.
func acquireLock(ctx context.Context, name string, wait time.Duration) (release func(), err error) {
	dir := lockDir()
	// The directory must be ctrsh's user's own, writable by no one else:
	// in a shared /tmp another user could otherwise make it, or make it a
	// link to somewhere the lock file would be created or truncated.
	d, err := trust.OwnDir(dir)
	if err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	defer d.Close()
	file := unsafeLockChars().ReplaceAllString(name, "_") + ".lock"
	path := filepath.Join(dir, file)
	fd, err := unix.Openat(int(d.Fd()), file, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, cmp.Or(err, fmt.Errorf("%w: not a regular file", trust.ErrUntrusted)))
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if wait <= 0 || time.Now().After(deadline) {
			holder := readHolder(f)
			f.Close()
			msg := fmt.Sprintf("playbook %q is already running%s; retry later, or wait with --wait DURATION", name, holder)
			if wait > 0 {
				msg = fmt.Sprintf("playbook %q is still running%s after waiting %v", name, holder, wait)
			}
			return nil, fmt.Errorf("%w: %s", errLocked, msg)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := strings.TrimSpace(string(b[:n])); pid != "" {
		return " (pid " + pid + ")"
	}
	return ""
}
