// Package proc is the proc module of ctrsh: host processes read from /proc,
// with the PID each has inside its own PID
// namespace and the container it belongs to, found from its cgroups.
//
// Everything reads below a host root ("/" on a real host), so tests point
// the package at fixture trees (fixtures/trees) holding proc/, sys/ and etc/.
package proc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
)

// ErrNoProcess is wrapped by errors about a process that does not exist or
// exited while it was being read.
var ErrNoProcess = errors.New("no such process")

// Process is a snapshot of one process.
type Process struct {
	PID         int
	PPID        int
	Comm        string
	Cmdline     []string
	State       string // R, S, D, Z, T, ...
	UID, GID    int    // effective ids
	Threads     int
	RSS         uint64  // bytes
	StartTime   float64 // Unix seconds
	CPUSeconds  float64 // user + system
	NSpid       []int   // the kernel's NSpid: outermost namespace first
	ContainerID string  // "" when the process is no container's
	Runtime     string  // docker, containerd, podman, crio; "" with no container
	Cgroups     []CgroupPath
	// Status is every line of /proc/PID/status, in file order.
	Status [][2]string
}

// CgroupPath is one line of /proc/PID/cgroup.
type CgroupPath struct {
	Hierarchy   string // "0" for the unified hierarchy
	Controllers string // "memory", "cpu,cpuacct", "" for the unified hierarchy
	Path        string
}

// PIDInside is the PID of p in its own PID namespace (the last of NSpid),
// or p.PID on kernels without NSpid.
func (p *Process) PIDInside() int {
	if len(p.NSpid) == 0 {
		return p.PID
	}
	return p.NSpid[len(p.NSpid)-1]
}

// FS reads the processes of one host root.
type FS struct {
	Root string  // the host root: "/" or a fixture tree
	boot float64 // btime of proc/stat, Unix seconds
}

var (
	fsMu    sync.Mutex
	fsCache = map[string]*FS{}
)

// NewFS returns the FS of host root root ("/" for the real host). FSs are
// cached by root: the boot time is read once.
func NewFS(root string) (*FS, error) {
	if root == "" {
		root = "/"
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	if f, ok := fsCache[root]; ok {
		return f, nil
	}
	b, err := os.ReadFile(filepath.Join(root, "proc", "stat"))
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	boot, err := parseBootTime(b)
	if err != nil {
		return nil, fmt.Errorf("proc: %s: %w", filepath.Join(root, "proc", "stat"), err)
	}
	f := &FS{Root: root, boot: boot}
	fsCache[root] = f
	return f, nil
}

func (f *FS) path(pid int, name string) string {
	return filepath.Join(f.Root, "proc", strconv.Itoa(pid), name)
}

// read reads one file of /proc/PID.
func (f *FS) read(pid int, name string) ([]byte, error) {
	file, err := os.Open(f.path(pid, name))
	if err != nil {
		return nil, err
	}
	defer file.Close()
	buf := make([]byte, 0, 2048)
	for {
		n, err := file.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// gone reports whether err means the process is not there (any more).
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// fileErr wraps an error reading file name of process pid.
func fileErr(pid int, name string, err error) error {
	if gone(err) {
		return fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	return fmt.Errorf("process %d: %s: %w", pid, name, err)
}

// parts selects what load reads beyond stat.
type parts struct {
	status, cgroup, cmdline bool
}

var all = parts{status: true, cgroup: true, cmdline: true}

// load reads one process: stat, then the parts asked for, one read each.
func (f *FS) load(pid int, what parts) (*Process, error) {
	b, err := f.read(pid, "stat")
	if err != nil {
		return nil, fileErr(pid, "stat", err)
	}
	st, err := parseStat(b)
	if err != nil {
		return nil, fmt.Errorf("process %d: stat: %w", pid, err)
	}
	p := &Process{
		PID: pid, PPID: st.PPID, Comm: st.Comm, State: st.State, Threads: st.Threads,
		StartTime:  f.boot + float64(st.StartTime)/userHZ,
		CPUSeconds: float64(st.UTime+st.STime) / userHZ,
	}
	if st.RSSPages > 0 {
		p.RSS = uint64(st.RSSPages) * uint64(os.Getpagesize())
	}
	if what.cgroup {
		if err := f.loadCgroup(p); err != nil {
			return nil, err
		}
	}
	q, err := f.loadParts(pid, what)
	if err != nil {
		return nil, err
	}
	p.Status, p.NSpid, p.UID, p.GID, p.Cmdline = q.Status, q.NSpid, q.UID, q.GID, q.Cmdline
	return p, nil
}

// loadParts reads status and cmdline as what asks.
func (f *FS) loadParts(pid int, what parts) (*Process, error) {
	p := &Process{PID: pid}
	if what.status {
		b, err := f.read(pid, "status")
		if err != nil {
			return nil, fileErr(pid, "status", err)
		}
		s, err := parseStatus(b)
		if err != nil {
			return nil, fmt.Errorf("process %d: status: %w", pid, err)
		}
		p.Status, p.NSpid = s.Lines, s.NSpid
		p.UID, p.GID = s.UID[1], s.GID[1]
	}
	if what.cmdline {
		b, err := f.read(pid, "cmdline")
		if err != nil {
			return nil, fileErr(pid, "cmdline", err)
		}
		p.Cmdline = splitNUL(b)
	}
	return p, nil
}

func (f *FS) loadCgroup(p *Process) error {
	b, err := f.read(p.PID, "cgroup")
	if err != nil {
		return fileErr(p.PID, "cgroup", err)
	}
	lines := parseCgroup(b)
	p.Cgroups = make([]CgroupPath, len(lines))
	for i, l := range lines {
		p.Cgroups[i] = CgroupPath(l)
	}
	p.ContainerID, p.Runtime = containerOfLines(lines)
	return nil
}

// splitNUL splits cmdline or environ: NUL-terminated strings.
func splitNUL(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		out = append(out, string(b[:i]))
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// Get reads process pid. The error wraps ErrNoProcess when there is no such
// process, or when it exited while being read.
func (f *FS) Get(pid int) (*Process, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	return f.load(pid, all)
}

// Get reads process pid of the real host.
func Get(pid int) (*Process, error) {
	f, err := NewFS("/")
	if err != nil {
		return nil, err
	}
	return f.Get(pid)
}

// Self is the PID that proc/self names in the tree (the caller on a real host).
func (f *FS) Self() (int, error) {
	target, err := os.Readlink(filepath.Join(f.Root, "proc", "self"))
	if err != nil {
		return 0, fmt.Errorf("proc: self: %w", err)
	}
	pid, err := strconv.Atoi(target)
	if err != nil {
		return 0, fmt.Errorf("proc: self: %q is not a PID", target)
	}
	return pid, nil
}

// Exe is the target of /proc/PID/exe ("" for kernel threads and processes
// that exited).
func (f *FS) Exe(pid int) string {
	exe, err := os.Readlink(f.path(pid, "exe"))
	if err != nil {
		return ""
	}
	return exe
}

// Environ reads /proc/PID/environ as KEY=VALUE strings.
func (f *FS) Environ(pid int) ([]string, error) {
	b, err := f.read(pid, "environ")
	if err != nil {
		return nil, fileErr(pid, "environ", err)
	}
	return splitNUL(b), nil
}

// Namespaces reads the inodes of /proc/PID/ns/* (mnt, net, pid, ...).
func (f *FS) Namespaces(pid int) (map[string]uint64, error) {
	dir := f.path(pid, "ns")
	names, err := readDirNames(dir)
	if err != nil {
		return nil, fileErr(pid, "ns", err)
	}
	out := make(map[string]uint64, len(names))
	for _, n := range names {
		if n == "pid_for_children" || n == "time_for_children" {
			continue
		}
		link, err := os.Readlink(filepath.Join(dir, n))
		if err != nil {
			return nil, fileErr(pid, "ns/"+n, err)
		}
		ino, err := nsInode(link)
		if err != nil {
			return nil, fmt.Errorf("process %d: ns/%s: %w", pid, n, err)
		}
		out[n] = ino
	}
	return out, nil
}

// nsInode reads "pid:[4026531836]".
func nsInode(link string) (uint64, error) {
	i := len(link) - 1
	j := 0
	for k := range link {
		if link[k] == '[' {
			j = k + 1
			break
		}
	}
	if j == 0 || i < j || link[i] != ']' {
		return 0, fmt.Errorf("unexpected link %q", link)
	}
	return strconv.ParseUint(link[j:i], 10, 64)
}

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// PIDs lists the PIDs in proc, sorted.
func (f *FS) PIDs() ([]int, error) {
	names, err := readDirNames(filepath.Join(f.Root, "proc"))
	if err != nil {
		return nil, fmt.Errorf("proc: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n[0] < '1' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}
