package trust_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/trust"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// tree makes, under a fresh root-owned directory, one case of each thing
// the walk must refuse, and returns that directory.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	file := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("return 1\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mkdir := func(name string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	file("good.lua", 0o644)
	file("groupw.lua", 0o664)
	file("worldw.lua", 0o606)
	must(os.Chown(file("other.lua", 0o644), 65534, 65534))
	must(os.Symlink(filepath.Join(dir, "good.lua"), filepath.Join(dir, "link.lua")))
	mkdir("open", 0o777)
	file("open/x.lua", 0o644)
	mkdir("group", 0o770)
	file("group/x.lua", 0o644)
	mkdir("theirs", 0o755)
	file("theirs/x.lua", 0o644)
	must(os.Chown(filepath.Join(dir, "theirs"), 65534, 65534))
	mkdir("sticky", os.ModeSticky|0o777)
	file("sticky/x.lua", 0o644)
	mkdir("real", 0o755)
	file("real/x.lua", 0o644)
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "linkdir")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo.lua"), 0o644))
	must(unix.Mknod(filepath.Join(dir, "chr.lua"), unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))))
	must(unix.Mknod(filepath.Join(dir, "blk.lua"), unix.S_IFBLK|0o644, int(unix.Mkdev(7, 0))))
	l, err := net.Listen("unix", filepath.Join(dir, "sock.lua"))
	must(err)
	t.Cleanup(func() { l.Close() })
	mkdir("dir.lua", 0o755)
	return dir
}

func TestReadFileRefusals(t *testing.T) {
	testengine.NeedRoot(t, "the checks (applied to root)")
	dir := tree(t)
	for _, tc := range []struct{ name, want string }{
		{"good.lua", ""},
		{"real/x.lua", ""},
		{"sticky/x.lua", ""}, // a root-owned sticky directory, as /tmp
		{"groupw.lua", "file DIR/groupw.lua is group-writable (mode 0664)"},
		{"worldw.lua", "file DIR/worldw.lua is world-writable (mode 0606)"},
		{"other.lua", "file DIR/other.lua is owned by uid 65534, not root or the invoking user"},
		{"link.lua", "DIR/link.lua is a symbolic link"},
		{"open/x.lua", "directory DIR/open is world-writable (mode 0777)"},
		{"group/x.lua", "directory DIR/group is group-writable (mode 0770)"},
		{"theirs/x.lua", "directory DIR/theirs is owned by uid 65534"},
		{"linkdir/x.lua", "directory DIR/linkdir is a symbolic link"},
		{"fifo.lua", "DIR/fifo.lua is not a regular file (a FIFO)"},
		{"chr.lua", "DIR/chr.lua is not a regular file (a character device)"},
		{"blk.lua", "DIR/blk.lua is not a regular file (a block device)"},
		{"sock.lua", "DIR/sock.lua is not a regular file (a socket)"},
		{"dir.lua", "DIR/dir.lua is not a regular file (a directory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			f, err := trust.ReadFile(filepath.Join(dir, tc.name))
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if tc.want == "" {
				if err != nil || string(f.Source) != "return 1\n" || len(f.SHA256) != 64 {
					t.Errorf("ReadFile: %v, %+v", err, f)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if !errors.Is(err, trust.ErrUntrusted) || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadFile: %v, want %q", err, want)
			}
		})
	}
	// A relative path is walked from the kernel's working directory, so a
	// symlinked directory in it is seen even when $PWD hides it.
	t.Chdir(filepath.Join(dir, "linkdir"))
	if _, err := trust.ReadFile("x.lua"); err != nil {
		t.Errorf("relative path from %s (really %s): %v", filepath.Join(dir, "linkdir"), filepath.Join(dir, "real"), err)
	}
	if _, err := trust.ReadFile(filepath.Join(dir, "nope.lua")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want not exist", err)
	}
}

func TestOwnDir(t *testing.T) {
	testengine.NeedRoot(t, "directories of another user")
	dir := tree(t)
	for _, tc := range []struct{ name, want string }{
		{"real", ""},
		{"real/new/locks", ""},
		{"theirs", "directory DIR/theirs is owned by uid 65534, not uid 0"},
		{"theirs/locks", "directory DIR/theirs is owned by uid 65534, not root or uid 0"},
		{"open", "directory DIR/open is world-writable (mode 0777)"},
		{"sticky", "directory DIR/sticky is world-writable (mode 1777)"},
		{"linkdir", "directory DIR/linkdir is a symbolic link"},
		{"linkdir/locks", "directory DIR/linkdir is a symbolic link"},
		{"good.lua", "DIR/good.lua is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := trust.OwnDir(filepath.Join(dir, tc.name))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("OwnDir: %v", err)
				}
				f.Close()
				if st, err := os.Stat(filepath.Join(dir, tc.name)); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 && tc.name != "real" {
					t.Errorf("made %s: %v %v", tc.name, st.Mode(), err)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if !errors.Is(err, trust.ErrUntrusted) || !strings.Contains(err.Error(), want) {
				t.Errorf("OwnDir: %v, want %q", err, want)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(dir, "real", "locks")); err == nil {
		t.Errorf("OwnDir made a directory through a symbolic link")
	}
}
