package cgroup

import (
	"io/fs"
	"sync"

	"golang.org/x/sys/unix"
)

// bufPool holds the buffers readFile reads into.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// readFile reads a small kernel file (a cgroup or /proc file) with one
// open, as few reads as its size needs and a close: os.ReadFile also
// stats it and registers it with the poller, which for these files only
// costs system calls. The bytes are the caller's.
func readFile(path string) ([]byte, error) {
	var out []byte
	err := withFile(path, func(b []byte) error {
		out = append([]byte(nil), b...)
		return nil
	})
	return out, err
}

// withFile reads path into a pooled buffer and hands it to fn, which must
// not keep it. The errors are *fs.PathError, as os.ReadFile's.
func withFile(path string, fn func([]byte) error) error {
	return readInto(path, false, fn)
}

// readInto reads path into a pooled buffer for fn; once stops after a
// read that leaves room in the buffer, for a file the kernel writes as
// one record (a value, or memory.stat's lines, printed by one show call):
// such a read holds all of it, so the read of 0 that would end it is not
// made. Files of many records (cgroup.procs, /proc/PID/net/dev) come a
// page at a time and need once false.
func readInto(path string, once bool, fn func([]byte) error) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
			*bp = buf
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		// Unless once, a short read is not the end: files of many records
		// (cgroup.procs, /proc/PID/net/dev) come a page at a time, so only a
		// read of 0 ends them (a 3,000-process container's cgroup.procs
		// stopped at 683 PIDs when a short read was taken for its end).
		n += m
		if once && n < len(buf) {
			break
		}
	}
	return fn(buf[:n])
}

// WithFile reads a small kernel file into a pooled buffer and hands it to
// fn, which must not keep it (see withFile).
func WithFile(path string, fn func([]byte) error) error { return withFile(path, fn) }
