package proc

import (
	"bytes"
	"context"
	"errors"
	iofs "io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TopOf returns the rows of the given PIDs (a cgroup's cgroup.procs) and
// of their children that are not among them (zombies, which have left
// their cgroup), sorted by PID. Each process is read once: stat, status
// (only its ids and NSpid are parsed), cmdline and its children, spread
// over the CPUs. PIDs that exited meanwhile are left out.
func (fs *FS) TopOf(ctx context.Context, pids []int) ([]TopRow, error) {
	t := newTopSet(len(pids))
	if err := fs.readTop(ctx, pids, t); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.sort()
	if extra := t.missingChildren(); len(extra) > 0 {
		more := newTopSet(len(extra))
		if err := fs.readTop(ctx, extra, more); err != nil {
			return nil, err
		}
		t.rows = append(t.rows, more.rows...)
		t.meta = append(t.meta, more.meta...)
		t.sort()
	}
	t.setParents(fs.Users())
	return t.rows, ctx.Err()
}

// topSet is the rows being read, with what each needs beyond its row;
// a row of PID 0 is a process that was gone.
type topSet struct {
	rows []TopRow
	meta []topMeta
}

// topMeta is what TopOf needs of a process beyond its row.
type topMeta struct {
	nspid    int // the number of PID namespaces it is in
	children []int
}

func newTopSet(n int) *topSet {
	return &topSet{rows: make([]TopRow, n), meta: make([]topMeta, n)}
}

func (t *topSet) Len() int           { return len(t.rows) }
func (t *topSet) Less(i, j int) bool { return t.rows[i].PID < t.rows[j].PID }
func (t *topSet) Swap(i, j int) {
	t.rows[i], t.rows[j] = t.rows[j], t.rows[i]
	t.meta[i], t.meta[j] = t.meta[j], t.meta[i]
}

// sort drops the gone processes and sorts the rest by PID.
func (t *topSet) sort() {
	n := 0
	for i := range t.rows {
		if t.rows[i].PID != 0 {
			t.rows[n], t.meta[n] = t.rows[i], t.meta[i]
			n++
		}
	}
	t.rows, t.meta = t.rows[:n], t.meta[:n]
	sort.Sort(t)
}

// find returns the index of pid in the sorted rows, or -1.
func (t *topSet) find(pid int) int {
	i := sort.Search(len(t.rows), func(i int) bool { return t.rows[i].PID >= pid })
	if i < len(t.rows) && t.rows[i].PID == pid {
		return i
	}
	return -1
}

// missingChildren lists, sorted and once each, the children of the
// sorted rows that are not among them.
func (t *topSet) missingChildren() []int {
	var extra []int
	for i := range t.meta {
		for _, c := range t.meta[i].children {
			if t.find(c) < 0 {
				extra = append(extra, c)
			}
		}
	}
	slices.Sort(extra)
	return slices.Compact(extra)
}

// setParents sets each sorted row's user and parent PID inside, known
// when the parent is among them in the same PID namespace.
func (t *topSet) setParents(users map[int]string) {
	for i := range t.rows {
		r := &t.rows[i]
		r.User = users[r.UID]
		if j := t.find(r.PPID); j >= 0 && t.meta[j].nspid == t.meta[i].nspid {
			r.PPIDInside = t.rows[j].PIDInside
		}
	}
}

// readTop reads each PID into out's row and meta i (left zero when gone)
// on up to GOMAXPROCS goroutines.
func (fs *FS) readTop(ctx context.Context, pids []int, out *topSet) error {
	dir := filepath.Join(fs.Root, "proc")
	procfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &iofs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(procfd)
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(pids)/64))
	for range workers {
		wg.Go(func() {
			r := &topReader{proc: procfd, dir: dir, path: make([]byte, 0, 64), buf: make([]byte, 0, 4096)}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pids) || (i%64 == 0 && ctx.Err() != nil) {
					return
				}
				if !r.readProc(pids[i], &out.rows[i], &out.meta[i]) {
					out.rows[i], out.meta[i] = TopRow{}, topMeta{}
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// topReader reads processes for readTop, one per goroutine. Its files are
// opened below the proc directory's fd, by paths built in place: no
// allocation but the row's strings.
type topReader struct {
	proc int    // the proc directory
	dir  string // its path, for the rare glob of task/*/children
	path []byte // the path below proc being read
	buf  []byte // what was read
}

// readProc reads one process into row and m; false when it is gone or
// unreadable.
func (r *topReader) readProc(pid int, row *TopRow, m *topMeta) bool {
	if r.read(pid, "/stat", true) != nil {
		return false
	}
	st, err := parseStat(r.buf)
	if err != nil {
		return false
	}
	*row = TopRow{PID: pid, PPID: st.PPID, Comm: st.Comm, State: st.State,
		CPUSeconds: float64(st.UTime+st.STime) / userHZ}
	if st.RSSPages > 0 {
		row.RSS = uint64(st.RSSPages) * uint64(pageSize)
	}
	if r.read(pid, "/status", true) != nil {
		return false
	}
	row.UID, row.PIDInside, m.nspid = statusIDs(r.buf, pid)
	if r.read(pid, "/cmdline", true) != nil {
		return false
	}
	row.Cmd = joinCmdline(r.buf)
	if row.Cmd == "" {
		row.Cmd = "[" + row.Comm + "]"
	}
	m.children = r.children(pid, st.Threads)
	return true
}

// read reads the file of pid named by suffix (appended to "PID") into
// r.buf; once as for readFD.
func (r *topReader) read(pid int, suffix string, once bool) error {
	r.path = strconv.AppendInt(r.path[:0], int64(pid), 10)
	r.path = append(r.path, suffix...)
	return r.readPath(once)
}

// readPath reads r.path below the proc directory into r.buf.
func (r *topReader) readPath(once bool) error {
	r.path = append(r.path, 0)
	fd, err := openAt(r.proc, r.path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	r.buf, err = readFD(fd, r.buf, once)
	return err
}

// openAt is unix.Openat(dirfd, path) for a NUL-terminated path, without
// the copy of path that unix.Openat allocates to add the NUL.
func openAt(dirfd int, path []byte) (int, error) {
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])),
		unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

var pageSize = unix.Getpagesize()

// statusIDs reads the effective uid and NSpid of /proc/PID/status: the
// PID inside (the last of NSpid, pid on kernels without it) and the
// number of namespaces.
func statusIDs(b []byte, pid int) (uid, inside, depth int) {
	inside, depth = pid, 1
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		switch {
		case bytes.HasPrefix(line, []byte("Uid:")):
			_, rest := nextField(line[4:]) // real, effective, saved, fs
			if f, _ := nextField(rest); f != nil {
				uid, _ = strconv.Atoi(string(f))
			}
		case bytes.HasPrefix(line, []byte("NSpid:")):
			n := 0
			for f, rest := nextField(line[6:]); f != nil; f, rest = nextField(rest) {
				inside, _ = strconv.Atoi(string(f))
				n++
			}
			if n > 0 {
				depth = n
			}
			return uid, inside, depth // NSpid comes after Uid
		}
	}
	return uid, inside, depth
}

// children lists the children of a process: of its main thread, or of
// every thread when it has several.
func (r *topReader) children(pid, threads int) []int {
	var out []int
	add := func() {
		for field, rest := nextField(r.buf); field != nil; field, rest = nextField(rest) {
			if c, err := strconv.Atoi(string(field)); err == nil {
				out = append(out, c)
			}
		}
	}
	if threads <= 1 {
		r.path = strconv.AppendInt(r.path[:0], int64(pid), 10)
		r.path = append(r.path, "/task/"...)
		r.path = strconv.AppendInt(r.path, int64(pid), 10)
		r.path = append(r.path, "/children"...)
		if r.readPath(false) == nil {
			add()
		}
		return out
	}
	files, _ := filepath.Glob(filepath.Join(r.dir, strconv.Itoa(pid), "task", "*", "children"))
	for _, f := range files {
		var err error
		if r.buf, err = readFile(f, r.buf, false); err == nil {
			add()
		}
	}
	return out
}

// joinCmdline is strings.Join(splitNUL(b), " ") in one allocation: the
// arguments of a cmdline joined by spaces. It overwrites b.
func joinCmdline(b []byte) string {
	b = bytes.TrimSuffix(b, []byte{0})
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	return string(b)
}

// readFile reads path into buf[:0] (grown as needed): one open, reads
// until the end, one close; see readFD for once.
func readFile(path string, buf []byte, once bool) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf, &iofs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf, err = readFD(fd, buf, once)
	if err != nil {
		return buf, &iofs.PathError{Op: "read", Path: path, Err: err}
	}
	return buf, nil
}

// readFD reads the file fd into buf[:0]. With once, it stops after a read
// that does not fill buf: for a file the kernel makes in one go (stat and
// status, one show call; cmdline, copied whole up to the read's size), a
// read that leaves room in buf holds all of it, so the read of 0 that
// would end it is not made.
func readFD(fd int, buf []byte, once bool) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return buf, err
		}
		if n == 0 {
			return buf, nil
		}
		// Unless once, only a read of 0 is the end: task/*/children comes a
		// page at a time (a parent of 3,000 processes lists more than a page).
		room := cap(buf) - len(buf)
		buf = buf[:len(buf)+n]
		if once && n < room {
			return buf, nil
		}
	}
}
