package cgroup

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	miHead = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n23 22 0:21 / /proc rw,nosuid - proc proc rw\n"
	miV1   = "30 24 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n" +
		"31 30 0:27 / /sys/fs/cgroup/systemd rw,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd\n" +
		"34 30 0:30 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory\n" +
		"35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct\n"
	miUnified = "32 30 0:28 / /sys/fs/cgroup/unified rw,relatime shared:11 - cgroup2 cgroup2 rw,nsdelegate\n"
	miV2      = "30 24 0:26 / /sys/fs/cgroup rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
)

func TestParseMountinfo(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		mode     Mode
		mounts   []mount
	}{
		{"v1", miHead + miV1, ModeV1, []mount{
			{Point: "/sys/fs/cgroup/systemd", Root: "/", Version: 1, Controllers: []string{"name=systemd"}},
			{Point: "/sys/fs/cgroup/memory", Root: "/", Version: 1, Controllers: []string{"memory"}},
			{Point: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Version: 1, Controllers: []string{"cpu", "cpuacct"}},
		}},
		{"hybrid", miHead + miV1 + miUnified, ModeHybrid, nil},
		{"v2", miHead + miV2, ModeV2, []mount{{Point: "/sys/fs/cgroup", Root: "/", Version: 2}}},
		// A container's view: the cgroup namespace root, a mount point with a space.
		{"v2 namespaced", "40 30 0:26 /docker/abc /sys/fs/my\\040cgroup ro - cgroup2 cgroup2 rw\n", ModeV2,
			[]mount{{Point: "/sys/fs/my cgroup", Root: "/docker/abc", Version: 2}}},
		// Only the name=systemd hierarchy and a cgroup2 mount: v2 controllers.
		{"v2 with a named v1 hierarchy", miHead + miV2 + "31 30 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n", ModeV2, nil},
	} {
		ms, err := parseMountinfo([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		mode, err := modeOf(ms)
		if err != nil || mode != tc.mode {
			t.Errorf("%s: mode %q, %v; want %q", tc.name, mode, err, tc.mode)
		}
		if tc.mounts != nil {
			if diff := cmp.Diff(tc.mounts, ms); diff != "" {
				t.Errorf("%s: mounts (-want +got):\n%s", tc.name, diff)
			}
		}
	}
	ms, err := parseMountinfo([]byte(miHead))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := modeOf(ms); err == nil {
		t.Error("no cgroup mounts: want an error")
	}
	if _, err := parseMountinfo([]byte("garbage line\n")); err == nil {
		t.Error("a malformed line was accepted")
	}
	// A cgroup line too short to hold a mount point is an error too, not a
	// mount; lines of other file systems are skipped unparsed.
	if _, err := parseMountinfo([]byte("31 30 - cgroup cgroup rw,memory\n")); err == nil {
		t.Error("a malformed cgroup line was accepted")
	}
	if ms, err := parseMountinfo([]byte("1 2 0:3 / /x rw - ext4 /dev/sda1 rw\n" + miV2)); err != nil || len(ms) != 1 {
		t.Errorf("one cgroup2 mount among others: %v, %v", ms, err)
	}
}

func TestParseKV(t *testing.T) {
	got, err := parseKV([]byte("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"))
	if err != nil || !cmp.Equal(got, map[string]uint64{"oom_kill_disable": 0, "under_oom": 0, "oom_kill": 3}) {
		t.Errorf("parseKV: %v, %v", got, err)
	}
	if _, err := parseKV([]byte("a 1 2\n")); err == nil {
		t.Error("three fields accepted")
	}
	if _, err := parseKV([]byte("a x\n")); err == nil {
		t.Error("a word accepted as a number")
	}
}

func TestParseCPUMax(t *testing.T) {
	for in, want := range map[string]*float64{"max 100000\n": nil, "150000 100000\n": ptr(1.5), "50000 100000": ptr(0.5)} {
		got, err := parseCPUMax([]byte(in))
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("parseCPUMax(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "max", "1 0", "x 100000"} {
		if _, err := parseCPUMax([]byte(in)); err == nil {
			t.Errorf("parseCPUMax(%q): want an error", in)
		}
	}
}

func TestParseBlkioAndIOStat(t *testing.T) {
	r, w, err := parseBlkio([]byte("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Total 12288\n8:16 Read 1000\nTotal 13288\n"))
	if err != nil || r != 5096 || w != 8192 {
		t.Errorf("parseBlkio: %d %d %v", r, w, err)
	}
	r, w, err = parseBlkio([]byte("Total 0\n"))
	if err != nil || r != 0 || w != 0 {
		t.Errorf("parseBlkio of an idle cgroup: %d %d %v", r, w, err)
	}
	io, err := parseIOStat([]byte("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1000 wbytes=0 rios=1 wios=1\n"))
	if err != nil || *io.ReadBytes != 5096 || *io.WriteBytes != 8192 || *io.ReadOps != 2 || *io.WriteOps != 3 {
		t.Errorf("parseIOStat: %+v %v", io, err)
	}
	if _, err := parseIOStat([]byte("8:0 rbytes=x\n")); err == nil {
		t.Error("parseIOStat accepted a word")
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/x\134y`: `/x\y`, `/end\04`: `/end\04`} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// joinClean must be filepath.Join for every path a mount and a cgroup
// path can make.
func TestJoinClean(t *testing.T) {
	for _, root := range []string{"/", "/host", "/host/"} {
		for _, point := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup", "/sys/fs/cgroup/", "/"} {
			for _, rel := range []string{"/docker/abc", "", "/", "/a/../b", "/a//b", "/a/./b", "/a/", "/../x"} {
				if got, want := joinClean(root, point, rel), filepath.Join(root, point, rel); got != want {
					t.Errorf("joinClean(%q, %q, %q) = %q, want %q", root, point, rel, got, want)
				}
			}
		}
	}
}
