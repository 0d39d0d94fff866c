//go:build linux

// Package trust opens the files ctrsh runs as code — playbooks, scripts and
// the modules they require — and the directories it keeps state in, as cron
// and sudo open theirs: by walking the path from / one component at a time
// with openat(O_PATH|O_NOFOLLOW), and checking each directory and the final
// file with fstat on the descriptor itself, so what is checked is what is
// read. Nothing on the way may be a symbolic link; a file must be regular (a
// FIFO, device or socket is refused at once, never opened for reading); and
// no one but root (or the invoking user) may own or be able to write
// anything on the way.
package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUntrusted marks a file or directory refused by the checks (ctrsh exits
// 77 with the message).
var ErrUntrusted = errors.New("untrusted")

// File is a file read through the checks.
type File struct {
	Path   string // as it was named
	Source []byte
	SHA256 string // of Source, hex
}

// Checked reports whether ReadFile checks owners and modes: when ctrsh runs
// as root. Without root a file still has to be a regular one.
func Checked() bool { return os.Geteuid() == 0 }

// InvokingUID is the user who ran ctrsh: under sudo, SUDO_UID; else the
// real uid.
func InvokingUID() int {
	if s := os.Getenv("SUDO_UID"); s != "" && os.Geteuid() == 0 {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return os.Getuid()
}

// ReadFile reads a file that ctrsh is about to run as code. As root
// (Checked), the file must be a regular file owned by root or the invoking
// user and writable by no one else, reached from / through directories
// likewise, none of them a symbolic link; a root-owned sticky directory
// such as /tmp is accepted, since nobody else can replace a file in it.
// Without root, only the file's type is checked. A refusal wraps
// ErrUntrusted and names what failed.
func ReadFile(path string) (*File, error) {
	var (
		f   *os.File
		err error
	)
	if Checked() {
		f, err = openChecked(path)
	} else {
		f, err = openPlain(path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	sum := sha256.Sum256(src)
	return &File{Path: path, Source: src, SHA256: hex.EncodeToString(sum[:])}, nil
}

// openPlain opens path for reading as any user may (links followed: the
// checks are root's), but refuses what is not a regular file without
// blocking on it.
func openPlain(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENXIO) { // a socket
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil {
			return nil, notRegular(path, st.Mode)
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return regularFile(fd, path, nil)
}

// regularFile checks that fd is a regular file (and, when want is set, the
// very file want describes), clears O_NONBLOCK, and returns it as an
// *os.File. It closes fd on failure.
func regularFile(fd int, path string, want *unix.Stat_t) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, notRegular(path, st.Mode)
	}
	if want != nil && (st.Dev != want.Dev || st.Ino != want.Ino) {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s was replaced while it was checked", ErrUntrusted, path)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openChecked walks to path from / and opens the file, checking everything
// on the way on the descriptors the walk opened.
func openChecked(path string) (*os.File, error) {
	abs, err := absolute(path)
	if err != nil {
		return nil, err
	}
	dir, name := filepath.Split(abs)
	dirfd, err := walk(filepath.Clean(dir), false, scriptDir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	if name == "" {
		return nil, notRegular(path, unix.S_IFDIR)
	}
	// First the file itself, not opened: a FIFO or device is never opened
	// for reading (a FIFO would block; opening a device can act).
	pfd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var pst unix.Stat_t
	err = unix.Fstat(pfd, &pst)
	unix.Close(pfd)
	if err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if pst.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil, fmt.Errorf("%w: %s is a symbolic link (files run as root are opened without following links)", ErrUntrusted, path)
	}
	if pst.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, notRegular(path, pst.Mode)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%w: %s is a symbolic link (files run as root are opened without following links)", ErrUntrusted, path)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := regularFile(fd, path, &pst)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := ownerMode("file "+path, st, false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// absolute makes path absolute against the kernel's working directory (not
// $PWD, which may name it through a symbolic link).
func absolute(path string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}
	wd, err := unix.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	return filepath.Join(wd, path), nil
}

// dirCheck checks one directory of a walk: name is its absolute path, last
// whether it is the final one.
type dirCheck func(name string, st unix.Stat_t, last bool) error

func scriptDir(name string, st unix.Stat_t, _ bool) error {
	return ownerMode("directory "+name, st, true)
}

// walk opens dir, an absolute clean path, from / one component at a time
// without following symbolic links, checks each directory with check, and
// returns an O_PATH descriptor of the last. With create, missing
// directories are made (mode 0700) and then checked like the others.
func walk(dir string, create bool, check dirCheck) (int, error) {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	parts := strings.Split(strings.TrimPrefix(dir, "/"), "/")
	if dir == "/" {
		parts = nil
	}
	name := "/"
	for i := -1; i < len(parts); i++ {
		if i >= 0 {
			name = filepath.Join(name, parts[i])
			next, err := unix.Openat(fd, parts[i], unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if errors.Is(err, unix.ENOENT) && create {
				if err = unix.Mkdirat(fd, parts[i], 0o700); err == nil || errors.Is(err, unix.EEXIST) {
					next, err = unix.Openat(fd, parts[i], unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				}
			}
			unix.Close(fd)
			if err != nil {
				return -1, &os.PathError{Op: "open", Path: name, Err: err}
			}
			fd = next
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, &os.PathError{Op: "stat", Path: name, Err: err}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
		case unix.S_IFLNK:
			unix.Close(fd)
			return -1, fmt.Errorf("%w: directory %s is a symbolic link (paths run as root are walked without following links)", ErrUntrusted, name)
		default:
			unix.Close(fd)
			return -1, fmt.Errorf("%w: %s is not a directory", ErrUntrusted, name)
		}
		if err := check(name, st, i == len(parts)-1); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// ownerMode checks that what is owned by root or the invoking user and not
// writable by group or others (a root-owned sticky directory excepted).
func ownerMode(what string, st unix.Stat_t, isDir bool) error {
	uid := int(st.Uid)
	if uid != 0 && uid != InvokingUID() {
		return fmt.Errorf("%w: %s is owned by uid %d, not root or the invoking user", ErrUntrusted, what, uid)
	}
	if st.Mode&0o022 != 0 {
		if isDir && st.Mode&unix.S_ISVTX != 0 && uid == 0 {
			return nil
		}
		return writable(what, st.Mode)
	}
	return nil
}

func writable(what string, mode uint32) error {
	who := "group"
	if mode&0o002 != 0 {
		who = "world"
	}
	return fmt.Errorf("%w: %s is %s-writable (mode %04o)", ErrUntrusted, what, who, mode&0o7777)
}

func notRegular(path string, mode uint32) error {
	kind := "not a regular file"
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		kind = "a FIFO"
	case unix.S_IFCHR:
		kind = "a character device"
	case unix.S_IFBLK:
		kind = "a block device"
	case unix.S_IFSOCK:
		kind = "a socket"
	case unix.S_IFDIR:
		kind = "a directory"
	case unix.S_IFLNK:
		kind = "a symbolic link"
	}
	return fmt.Errorf("%w: %s is not a regular file (%s)", ErrUntrusted, path, kind)
}

// OwnDir opens the directory dir that ctrsh keeps its own state in (locks),
// creating what is missing with mode 0700, and checks it as ReadFile checks
// a script's directories — and more: dir itself must belong to ctrsh's
// effective user and be writable by no one else, whoever runs ctrsh. It
// returns an O_PATH descriptor for openat; the caller closes it.
func OwnDir(dir string) (*os.File, error) {
	abs, err := absolute(dir)
	if err != nil {
		return nil, err
	}
	euid := os.Geteuid()
	fd, err := walk(abs, true, func(name string, st unix.Stat_t, last bool) error {
		uid := int(st.Uid)
		if last {
			if uid != euid {
				return fmt.Errorf("%w: directory %s is owned by uid %d, not uid %d that ctrsh runs as", ErrUntrusted, name, uid, euid)
			}
			if st.Mode&0o022 != 0 {
				return writable("directory "+name, st.Mode)
			}
			return nil
		}
		if uid != 0 && uid != euid {
			return fmt.Errorf("%w: directory %s is owned by uid %d, not root or uid %d that ctrsh runs as", ErrUntrusted, name, uid, euid)
		}
		if st.Mode&0o022 != 0 && !(st.Mode&unix.S_ISVTX != 0 && uid == 0) {
			return writable("directory "+name, st.Mode)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), abs), nil
}
