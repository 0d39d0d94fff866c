// Package cgroup is the cgroup module of ctrsh: a process's or a
// container's cgroup, v1, v2 or hybrid, with its memory, cpu, pids and io
// figures read from the kernel's files, its OOM kill count, and a watch for
// OOM kills that needs no engine.
//
// A file the kernel does not have is "not available": a nil pointer in Go,
// nil in Lua, never 0. Everything reads below a host root ("/" on a real
// host) so that tests can use fixture trees (fixtures/trees).
package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoCgroup is wrapped by errors about a cgroup that does not exist (or
// was removed while it was being read).
var ErrNoCgroup = errors.New("no such cgroup")

// Cgroup is one cgroup: on v1 (and hybrid) hosts, a path in each controller's
// hierarchy; on v2, one path in the unified hierarchy.
type Cgroup struct {
	// Path is the cgroup's path in its hierarchy ("/docker/<id>"): on v1 the
	// memory controller's.
	Path    string
	Version int // 1 or 2
	mounts  *Mounts
	paths   map[string]string // v1: controller → path; v2: "" → path
}

// v1Controllers are the controllers ctrsh reads on v1 hosts.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids", "blkio"}

// Open returns the cgroup at path of host root: a path in the hierarchy
// ("/docker/<id>", "/system.slice/docker-<id>.scope") or an absolute path
// below a cgroup mount ("/sys/fs/cgroup/memory/docker/<id>").
func Open(root, path string) (*Cgroup, error) {
	ms, err := ReadMounts(root)
	if err != nil {
		return nil, err
	}
	return ms.Open(path)
}

// Open is Open on already-read mounts.
func (ms *Mounts) Open(path string) (*Cgroup, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if p, ok := ms.hierarchyPath(path); ok {
		path = p
	}
	path = filepath.Clean(path)
	c := &Cgroup{Path: path, mounts: ms, paths: map[string]string{}}
	if ms.Mode == ModeV2 {
		c.Version = 2
		c.paths[""] = path
	} else {
		c.Version = 1
		for _, ctrl := range v1Controllers {
			c.paths[ctrl] = path
		}
	}
	if !c.exists() {
		return nil, fmt.Errorf("cgroup %s: %w", path, ErrNoCgroup)
	}
	return c, nil
}

// ForPID returns the cgroup of process pid of host root, from
// /proc/PID/cgroup.
func ForPID(root string, pid int) (*Cgroup, error) {
	ms, err := ReadMounts(root)
	if err != nil {
		return nil, err
	}
	return ms.ForPID(pid)
}

// ForPID is ForPID on already-read mounts.
func (ms *Mounts) ForPID(pid int) (*Cgroup, error) {
	lines, err := ms.readProcCgroup(pid)
	if err != nil {
		return nil, err
	}
	c := &Cgroup{mounts: ms, paths: map[string]string{}}
	for _, l := range lines {
		if l.unified() {
			c.paths[""] = l.Path
			continue
		}
		for _, ctrl := range l.Controllers {
			c.paths[ctrl] = l.Path
		}
	}
	if ms.Mode == ModeV2 {
		c.Version = 2
		c.Path = c.paths[""]
		if c.Path == "" {
			return nil, fmt.Errorf("process %d: cgroup: no unified hierarchy line", pid)
		}
	} else {
		c.Version = 1
		c.Path = c.paths["memory"]
		for _, ctrl := range v1Controllers {
			if c.Path == "" {
				c.Path = c.paths[ctrl]
			}
		}
		if c.Path == "" {
			return nil, fmt.Errorf("process %d: cgroup: no v1 controller lines", pid)
		}
	}
	return c, nil
}

// Dir is the directory of the cgroup for a controller ("memory", "cpu",
// "cpuacct", "pids", "blkio"; ignored on v2), and false when that
// controller is not mounted.
func (c *Cgroup) Dir(ctrl string) (string, bool) {
	if c.Version == 2 {
		ctrl = ""
	}
	path, ok := c.paths[ctrl]
	if !ok {
		return "", false
	}
	m, ok := c.mounts.controller(ctrl)
	if !ok {
		return "", false
	}
	return c.mounts.dir(m, path)
}

// exists reports whether the cgroup's directory is there: the unified one on
// v2, the memory controller's (else any controller's) on v1.
func (c *Cgroup) exists() bool {
	ctrls := []string{""}
	if c.Version == 1 {
		ctrls = v1Controllers
	}
	for _, ctrl := range ctrls {
		if d, ok := c.Dir(ctrl); ok {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				return true
			}
		}
	}
	return false
}

// read returns file name of the controller's directory. ok is false when
// the kernel does not have the file (or the controller is not mounted);
// err wraps ErrNoCgroup when the cgroup itself is gone.
func (c *Cgroup) read(ctrl, name string) (data []byte, ok bool, err error) {
	d, mounted := c.Dir(ctrl)
	if !mounted {
		return nil, false, nil
	}
	b, err := readFile(d + "/" + name) // d is clean, name a file name
	if err == nil {
		return b, true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(d); serr != nil {
			return nil, false, fmt.Errorf("cgroup %s: %w", c.Path, ErrNoCgroup)
		}
		return nil, false, nil
	}
	if errors.Is(err, errNoDevice) {
		return nil, false, nil // the kernel refuses to read it (a disabled controller)
	}
	return nil, false, fmt.Errorf("cgroup %s: %s: %w", c.Path, name, err)
}

// readUint reads a file holding one number; nil when absent.
func (c *Cgroup) readUint(ctrl, name string) (*uint64, error) {
	v, _, err := c.readLimit(ctrl, name)
	return v, err
}

// v1Unlimited is where v1 limits start to mean "no limit": the kernel
// reports PAGE_COUNTER_MAX pages in bytes, 9223372036854771712 on 64-bit
// hosts.
const v1Unlimited = 1 << 62

// readLimit reads a file holding a number or "max". "max", and on v1 any
// value from 2^62 up, is unlimited (nil, true). A negative value (v1's
// cfs_quota_us of -1) is unlimited too.
func (c *Cgroup) readLimit(ctrl, name string) (v *uint64, unlimited bool, err error) {
	b, ok, err := c.read(ctrl, name)
	if err != nil || !ok {
		return nil, false, err
	}
	return c.parseLimit(name, b)
}

// parseLimit reads file name's bytes b as readLimit does.
func (c *Cgroup) parseLimit(name string, b []byte) (v *uint64, unlimited bool, err error) {
	s := string(bytes.TrimSpace(b))
	if s == "max" || strings.HasPrefix(s, "-") {
		return nil, true, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false, fmt.Errorf("cgroup %s: %s: %w", c.Path, name, err)
	}
	if c.Version == 1 && n >= v1Unlimited {
		return nil, true, nil
	}
	return &n, false, nil
}

// readKV reads a "key value" file (memory.stat, cpu.stat, memory.events);
// nil when absent.
func (c *Cgroup) readKV(ctrl, name string) (map[string]uint64, error) {
	b, ok, err := c.read(ctrl, name)
	if err != nil || !ok {
		return nil, err
	}
	kv, err := parseKV(b)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %s: %w", c.Path, name, err)
	}
	return kv, nil
}

func parseKV(b []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			if strings.HasPrefix(f[1], "-") {
				continue
			}
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		out[f[0]] = n
	}
	return out, nil
}

// Procs lists the PIDs in the cgroup (cgroup.procs of the memory
// controller's directory on v1).
func (c *Cgroup) Procs() ([]int, error) {
	ctrls := []string{""}
	if c.Version == 1 {
		ctrls = v1Controllers
	}
	for _, ctrl := range ctrls {
		b, ok, err := c.read(ctrl, "cgroup.procs")
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("cgroup %s: cgroup.procs: %w", c.Path, err)
			}
			pids = append(pids, n)
		}
		return pids, nil
	}
	return nil, fmt.Errorf("cgroup %s: cgroup.procs: %w", c.Path, ErrNoCgroup)
}

func ptr[T any](v T) *T { return &v }

func key(kv map[string]uint64, names ...string) *uint64 {
	for _, n := range names {
		if v, ok := kv[n]; ok {
			return ptr(v)
		}
	}
	return nil
}
