package cgroup

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Mode is how a host mounts its cgroups.
type Mode string

const (
	ModeV1     Mode = "v1"     // cgroup v1 controllers only
	ModeV2     Mode = "v2"     // the unified hierarchy only
	ModeHybrid Mode = "hybrid" // v1 controllers, plus a cgroup2 mount without them (systemd's /sys/fs/cgroup/unified)
)

// mount is one cgroup mount of /proc/self/mountinfo.
type mount struct {
	Point       string   // where it is mounted, as the host sees it (/sys/fs/cgroup/memory)
	Root        string   // the cgroup that is its root ("/" unless bind-mounted or namespaced)
	Version     int      // 1 or 2
	Controllers []string // v1: memory, cpu, cpuacct, name=systemd, ...
}

// Mounts is a host's cgroup mounts, read from its mount table.
type Mounts struct {
	Root   string // the host root the paths are below ("/")
	Mode   Mode
	mounts []mount
}

// parseMountinfo keeps the cgroup and cgroup2 mounts of a mountinfo file.
// Its lines are: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
// A host running containers has hundreds of mounts and a dozen cgroup
// ones: a line is split into fields only when its file system type (after
// " - ", which mountinfo's escapes leave nowhere else) is a cgroup one.
func parseMountinfo(b []byte) ([]mount, error) {
	var out []mount
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		_, after, ok := bytes.Cut(line, []byte(" - "))
		if !ok {
			if len(bytes.TrimSpace(line)) > 0 {
				return nil, fmt.Errorf("malformed line %q", line)
			}
			continue
		}
		if !bytes.HasPrefix(after, []byte("cgroup ")) && !bytes.HasPrefix(after, []byte("cgroup2 ")) {
			continue
		}
		m, err := parseCgroupMount(string(line))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// parseCgroupMount parses one mountinfo line of a cgroup or cgroup2 mount.
func parseCgroupMount(line string) (mount, error) {
	f := strings.Fields(line)
	sep := -1
	for i, s := range f {
		if s == "-" && i >= 6 {
			sep = i
			break
		}
	}
	if sep < 0 || sep+1 >= len(f) {
		return mount{}, fmt.Errorf("malformed line %q", line)
	}
	m := mount{Point: unescape(f[4]), Root: unescape(f[3]), Version: 2}
	if f[sep+1] == "cgroup" {
		m.Version = 1
		if len(f) > sep+3 {
			for _, o := range strings.Split(f[sep+3], ",") {
				switch o {
				case "rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode":
				default:
					if !strings.HasPrefix(o, "release_agent=") {
						m.Controllers = append(m.Controllers, o)
					}
				}
			}
		}
	}
	return m, nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
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

// modeOf tells the mode from the mounts.
func modeOf(ms []mount) (Mode, error) {
	v1, v2 := false, false
	for _, m := range ms {
		if m.Version == 2 {
			v2 = true
			continue
		}
		for _, c := range m.Controllers {
			if !strings.HasPrefix(c, "name=") {
				v1 = true
			}
		}
	}
	switch {
	case v1 && v2:
		return ModeHybrid, nil
	case v1:
		return ModeV1, nil
	case v2:
		return ModeV2, nil
	}
	return "", fmt.Errorf("no cgroup controllers mounted")
}

// ReadMounts reads the cgroup mounts of host root from its
// /proc/self/mountinfo.
func ReadMounts(root string) (*Mounts, error) {
	if root == "" {
		root = "/"
	}
	p := filepath.Join(root, "proc", "self", "mountinfo")
	var ms []mount
	err := withFile(p, func(b []byte) (err error) {
		if ms, err = parseMountinfo(b); err != nil {
			return fmt.Errorf("cgroup: %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	mode, err := modeOf(ms)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %s: %w", p, err)
	}
	// Longest mount points first, so that /sys/fs/cgroup/unified wins over
	// /sys/fs/cgroup when a path is looked up.
	sort.SliceStable(ms, func(i, j int) bool { return len(ms[i].Point) > len(ms[j].Point) })
	return &Mounts{Root: root, Mode: mode, mounts: ms}, nil
}

// DetectMode reads the cgroup mode of host root.
func DetectMode(root string) (Mode, error) {
	m, err := ReadMounts(root)
	if err != nil {
		return "", err
	}
	return m.Mode, nil
}

// controller returns the v1 mount of a controller, or the v2 mount for "".
func (ms *Mounts) controller(name string) (mount, bool) {
	for _, m := range ms.mounts {
		if name == "" {
			if m.Version == 2 {
				return m, true
			}
			continue
		}
		if m.Version != 1 {
			continue
		}
		for _, c := range m.Controllers {
			if c == name {
				return m, true
			}
		}
	}
	return mount{}, false
}

// dir is the directory of cgroup path in mount m, below the host root.
func (ms *Mounts) dir(m mount, path string) (string, bool) {
	rel := path
	if m.Root != "/" {
		r, ok := strings.CutPrefix(path, m.Root)
		if !ok || (r != "" && r[0] != '/') {
			return "", false
		}
		rel = r
	}
	return joinClean(ms.Root, m.Point, rel), true
}

// joinClean is filepath.Join(root, point, rel) with one allocation for the
// common case: root "/" and clean parts (Join of "/" and two absolute
// paths makes "///a//b" and cleans it into a second string, twice per
// cgroup file read).
func joinClean(root, point, rel string) string {
	if root != "/" || rel == "/" {
		return filepath.Join(root, point, rel)
	}
	p := point + rel
	if c := filepath.Clean(p); c != p { // Clean allocates only when it changes p
		return c
	}
	return p
}

// hierarchyPath turns an absolute path below a cgroup mount
// (/sys/fs/cgroup/memory/docker/ID) into the cgroup path (/docker/ID).
func (ms *Mounts) hierarchyPath(abs string) (string, bool) {
	abs = filepath.Clean(abs)
	for _, m := range ms.mounts {
		if ms.Mode != ModeV2 && m.Version == 2 {
			continue // on hybrid hosts, paths name the v1 controllers' cgroups
		}
		rel, ok := strings.CutPrefix(abs, m.Point)
		if !ok || (rel != "" && rel[0] != '/') {
			continue
		}
		if rel == "" {
			rel = "/"
		}
		if m.Root != "/" {
			rel = filepath.Join(m.Root, rel)
		}
		return rel, true
	}
	return "", false
}
