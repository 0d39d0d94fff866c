package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procLine is one line of /proc/PID/cgroup: "4:memory,cpu:/docker/3f2a", or
// "0::/system.slice/docker-3f2a.scope" for the unified hierarchy.
type procLine struct {
	ID          string
	Controllers []string // empty for the unified hierarchy
	Path        string
}

// parseProcCgroup parses /proc/PID/cgroup; malformed lines are skipped.
func parseProcCgroup(b []byte) []procLine {
	var out []procLine
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		l := procLine{ID: f[0], Path: f[2]}
		if f[1] != "" {
			l.Controllers = strings.Split(f[1], ",")
		}
		out = append(out, l)
	}
	return out
}

// unified reports whether the line is the v2 hierarchy's.
func (l procLine) unified() bool { return l.ID == "0" && len(l.Controllers) == 0 }

// readProcCgroup reads /proc/PID/cgroup below the host root.
func (ms *Mounts) readProcCgroup(pid int) ([]procLine, error) {
	b, err := os.ReadFile(filepath.Join(ms.Root, "proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("process %d: no such process", pid)
		}
		return nil, fmt.Errorf("process %d: cgroup: %w", pid, err)
	}
	return parseProcCgroup(b), nil
}

// ProcsFiles returns the cgroup.procs file, below the host root, of each
// cgroup process pid is in whose hierarchy is mounted here: v1 hierarchies
// found by their controllers (or name=), the unified one by the cgroup2
// mount. Writing a PID to each of them moves that process into the same
// cgroups (ctrsh nsenter -c, join_cgroup=). None mounted is an error.
func (ms *Mounts) ProcsFiles(pid int) ([]string, error) {
	lines, err := ms.readProcCgroup(pid)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range lines {
		m, ok := ms.hierarchy(l)
		if !ok {
			continue
		}
		if dir, ok := ms.dir(m, l.Path); ok {
			out = append(out, filepath.Join(dir, "cgroup.procs"))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("process %d: cgroup: none of its cgroups is mounted here", pid)
	}
	return out, nil
}

// hierarchy is the mount of the hierarchy of line l: the cgroup2 mount for
// the unified line, else the v1 mount that has all of its controllers.
func (ms *Mounts) hierarchy(l procLine) (mount, bool) {
	for _, m := range ms.mounts {
		if l.unified() || m.Version == 2 || len(l.Controllers) == 0 {
			if l.unified() && m.Version == 2 {
				return m, true
			}
			continue
		}
		if hasAll(m.Controllers, l.Controllers) {
			return m, true
		}
	}
	return mount{}, false
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
