package nsenter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procRoot is where /proc is read from (tests of the parsers use trees).
const procRoot = "/proc"

// readNamespaces returns the inode of each namespace of /proc/<who>/ns
// ("self" or a PID); kinds the kernel lacks are absent.
func readNamespaces(who string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(kindNames))
	for _, k := range kindNames {
		p := filepath.Join(procRoot, who, "ns", k)
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && who != "self" {
			if _, err := os.Stat(filepath.Join(procRoot, who)); err != nil {
				return nil, fmt.Errorf("process %s: %w", who, ErrTargetGone)
			}
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil, fmt.Errorf("%s: no inode", p)
		}
		out[k] = st.Ino
	}
	return out, nil
}

// parseEnviron splits /proc/PID/environ.
func parseEnviron(b []byte) []string {
	var out []string
	for _, kv := range bytes.Split(b, []byte{0}) {
		if len(kv) > 0 {
			out = append(out, string(kv))
		}
	}
	return out
}

// defaultPath is the PATH of a command whose environment has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// mergeEnv starts from base and sets every KEY=VALUE of extra; PATH is
// added when neither has one.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra)+1)
	index := map[string]int{}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			return
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range base {
		set(kv)
	}
	for _, kv := range extra {
		set(kv)
	}
	if _, ok := index["PATH"]; !ok {
		out = append(out, "PATH="+defaultPath)
	}
	return out
}

// cgroupLine is one line of /proc/PID/cgroup: "4:memory:/docker/3f2a".
type cgroupLine struct {
	ID          int
	Controllers []string // empty for the v2 hierarchy (ID 0)
	Path        string
}

func parseCgroupFile(b []byte) ([]cgroupLine, error) {
	var out []cgroupLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		id, err := strconv.Atoi(parts[0])
		if err != nil {
			return nil, fmt.Errorf("bad line %q", line)
		}
		var ctrls []string
		if parts[1] != "" {
			ctrls = strings.Split(parts[1], ",")
		}
		out = append(out, cgroupLine{ID: id, Controllers: ctrls, Path: parts[2]})
	}
	return out, sc.Err()
}

// cgroupMount is a cgroup or cgroup2 mount from /proc/self/mountinfo.
type cgroupMount struct {
	Root, Mountpoint string
	V2               bool
	Options          map[string]bool // super options: controllers, name=systemd, rw...
}

func parseMountinfoCgroups(b []byte) []cgroupMount {
	var out []cgroupMount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// 32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		opts := map[string]bool{}
		for _, o := range strings.Split(g[2], ",") {
			opts[o] = true
		}
		out = append(out, cgroupMount{Root: unescapeMount(f[3]), Mountpoint: unescapeMount(f[4]), V2: g[0] == "cgroup2", Options: opts})
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupProcsPaths maps each hierarchy the target belongs to onto the
// cgroup.procs file of its cgroup under our mounts: v1 hierarchies by their
// controllers (or name=), v2 by the cgroup2 mount. Hierarchies that are not
// mounted here are skipped; none found is an error.
func cgroupProcsPaths(lines []cgroupLine, mounts []cgroupMount) ([]string, error) {
	var out []string
	for _, l := range lines {
		m := findMount(l, mounts)
		if m == nil {
			continue
		}
		rel := l.Path
		if m.Root != "/" {
			if rel != m.Root && !strings.HasPrefix(rel, m.Root+"/") {
				continue
			}
			rel = strings.TrimPrefix(rel, m.Root)
		}
		out = append(out, path.Join(m.Mountpoint, path.Clean("/"+rel), "cgroup.procs"))
	}
	if len(out) == 0 {
		return nil, errors.New("none of its cgroups is mounted here")
	}
	return out, nil
}

func findMount(l cgroupLine, mounts []cgroupMount) *cgroupMount {
	for i := range mounts {
		m := &mounts[i]
		if l.ID == 0 && len(l.Controllers) == 0 {
			if m.V2 {
				return m
			}
			continue
		}
		if m.V2 || len(l.Controllers) == 0 {
			continue
		}
		all := true
		for _, c := range l.Controllers {
			if !m.Options[c] {
				all = false
				break
			}
		}
		if all {
			return m
		}
	}
	return nil
}
