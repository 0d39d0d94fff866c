package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// errUntrusted marks a playbook refused by the trust checks (exit 77).
var errUntrusted = errors.New("untrusted")

// trustedFile is a script read through the trust checks.
type trustedFile struct {
	Path   string
	Source []byte
	SHA256 string
}

// invokingUID is the user who ran ctrsh: under sudo, SUDO_UID; else the real uid.
func invokingUID() int {
	if s := os.Getenv("SUDO_UID"); s != "" && os.Geteuid() == 0 {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return os.Getuid()
}

// readScript reads a script or playbook. When ctrsh runs as root, the file
// is opened with O_NOFOLLOW and checked on the open fd, as cron and sudo
// check theirs: a regular file owned by root or the invoking user, not group-
// or world-writable, in directories likewise (a root-owned sticky directory
// such as /tmp is allowed: nobody else can replace a file in it).
func readScript(path string) (*trustedFile, error) {
	check := os.Geteuid() == 0
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return nil, err
	}
	real := filepath.Join(dir, filepath.Base(abs))
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if check {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Open(real, flags, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%w: %s is a symbolic link (playbooks run as root are opened without following links)", errUntrusted, path)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), real)
	defer f.Close()
	if check {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		if err := checkOwnerMode(path, st, false); err != nil {
			return nil, err
		}
		if err := checkDirs(dir); err != nil {
			return nil, err
		}
	}
	src, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &trustedFile{Path: path, Source: src, SHA256: sha256Hex(src)}, nil
}

func checkOwnerMode(name string, st unix.Stat_t, isDir bool) error {
	kind := "file"
	if isDir {
		kind = "directory"
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return fmt.Errorf("%w: %s is not a directory", errUntrusted, name)
		}
	} else if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%w: %s is not a regular file", errUntrusted, name)
	}
	uid := int(st.Uid)
	if uid != 0 && uid != invokingUID() {
		return fmt.Errorf("%w: %s %s is owned by uid %d, not root or the invoking user", errUntrusted, kind, name, uid)
	}
	if st.Mode&0o022 != 0 {
		if isDir && st.Mode&unix.S_ISVTX != 0 && uid == 0 {
			return nil
		}
		who := "group"
		if st.Mode&0o002 != 0 {
			who = "world"
		}
		return fmt.Errorf("%w: %s %s is %s-writable (mode %04o)", errUntrusted, kind, name, who, st.Mode&0o7777)
	}
	return nil
}

// checkDirs checks every directory from dir up to /.
func checkDirs(dir string) error {
	for {
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%w: directory %s: %v", errUntrusted, dir, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("directory %s: %w", dir, err)
		}
		if err := checkOwnerMode(dir, st, true); err != nil {
			return err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}
