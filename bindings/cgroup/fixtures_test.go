package cgroup_test

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

func u(v uint64) *uint64   { return &v }
func f(v float64) *float64 { return &v }

// want describes what each tree's container cgroup holds (see the trees'
// comments): limited containers have --memory 64m --cpus 1.5 --pids-limit 100.
type want struct {
	tree, mode, path string
	version          int
	limited          bool
	v1               bool
	noPeak, old      bool // no memory.peak (v2 < 5.19); no oom_kill nor memsw (v1 < 4.13)
	absPath          string
}

var docker = trees.ID("docker-web")

var layouts = []want{
	{tree: "cgroupv1-cgroupfs", mode: "v1", version: 1, v1: true, limited: true, path: "/docker/" + docker, absPath: "/sys/fs/cgroup/memory/docker/" + docker},
	{tree: "cgroupv1-systemd", mode: "v1", version: 1, v1: true, path: "/system.slice/docker-" + docker + ".scope", absPath: "/sys/fs/cgroup/pids/system.slice/docker-" + docker + ".scope"},
	{tree: "cgroupv2-systemd", mode: "v2", version: 2, limited: true, path: "/system.slice/docker-" + docker + ".scope", absPath: "/sys/fs/cgroup/system.slice/docker-" + docker + ".scope"},
	{tree: "cgroupv2-cgroupfs", mode: "v2", version: 2, path: "/docker/" + docker},
	{tree: "hybrid", mode: "hybrid", version: 1, v1: true, limited: true, path: "/system.slice/docker-" + docker + ".scope", absPath: "/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-" + docker + ".scope"},
	{tree: "cgroupv1-old", mode: "v1", version: 1, v1: true, limited: true, old: true, path: "/docker/" + docker},
	{tree: "cgroupv2-nopeak", mode: "v2", version: 2, limited: true, noPeak: true, path: "/system.slice/docker-" + docker + ".scope"},
	{tree: "kubepods-containerd", mode: "v1", version: 1, v1: true, limited: true, path: "/kubepods/burstable/pod8d4c1f2a-5b6e-4f70-9a81-0c2d3e4f5a6b/" + trees.ID("k8s-app")},
	{tree: "podman", mode: "v2", version: 2, path: "/machine.slice/libpod-" + trees.ID("podman-web") + ".scope/container"},
	{tree: "crio", mode: "v2", version: 2, limited: true, path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b3c4d_5e6f_7081_92a3_b4c5d6e7f809.slice/crio-" + trees.ID("crio-web") + ".scope"},
}

func TestFixtureLayouts(t *testing.T) {
	for _, w := range layouts {
		t.Run(w.tree, func(t *testing.T) {
			root := trees.Unpack(t, w.tree)
			mode, err := cgroup.DetectMode(root)
			if err != nil || string(mode) != w.mode {
				t.Errorf("mode %q, %v; want %q", mode, err, w.mode)
			}
			c, err := cgroup.ForPID(root, 2543)
			if err != nil {
				t.Fatal(err)
			}
			if c.Path != w.path || c.Version != w.version {
				t.Errorf("cgroup of 2543: %s v%d, want %s v%d", c.Path, c.Version, w.path, w.version)
			}

			m, err := c.Memory()
			if err != nil {
				t.Fatal(err)
			}
			wm := &cgroup.Memory{
				Usage: u(10485760), MaxUsage: u(20971520), WorkingSet: u(8388608), Cache: u(4194304), RSS: u(5242880),
				Swap: u(1048576), OOMKills: u(2),
			}
			if w.limited {
				wm.Limit = u(64 << 20)
			} else {
				wm.Unlimited = true
			}
			if w.v1 {
				wm.Failcnt = u(3)
			}
			if w.noPeak {
				wm.MaxUsage = nil
			}
			if w.old {
				wm.Swap, wm.OOMKills = nil, nil
			}
			if diff := cmp.Diff(wm, m, cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".Stat" || p.Last().String() == ".Events"
			}, cmp.Ignore())); diff != "" {
				t.Errorf("memory (-want +got):\n%s", diff)
			}
			if m.Stat == nil || m.Stat["active_file"] != 2097152 {
				t.Errorf("memory.stat: %v", m.Stat)
			}
			if (m.Events != nil) != (w.version == 2) {
				t.Errorf("memory.events: %v", m.Events)
			}

			cpu, err := c.CPU()
			if err != nil {
				t.Fatal(err)
			}
			wc := &cgroup.CPU{UsageNs: u(123456789000), UserNs: u(50_000_000_000), SystemNs: u(20_000_000_000),
				ThrottledNs: u(350000000), NrThrottled: u(7), NrPeriods: u(100)}
			switch {
			case w.v1 && w.limited:
				wc.Shares, wc.QuotaCores = u(512), f(1.5)
			case w.v1:
				wc.Shares = u(1024)
			case w.limited:
				wc.Weight, wc.QuotaCores = u(20), f(1.5)
			default:
				wc.Weight = u(100)
			}
			if diff := cmp.Diff(wc, cpu, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Stat" }, cmp.Ignore())); diff != "" {
				t.Errorf("cpu (-want +got):\n%s", diff)
			}

			pids, err := c.Pids()
			if err != nil {
				t.Fatal(err)
			}
			wp := &cgroup.Pids{Current: u(2), Limit: u(100)}
			if !w.limited {
				wp.Limit, wp.Unlimited = nil, true
			}
			if w.noPeak {
				wp = &cgroup.Pids{} // the pids controller is not enabled: nothing known
			}
			if diff := cmp.Diff(wp, pids); diff != "" {
				t.Errorf("pids (-want +got):\n%s", diff)
			}

			io, err := c.IO()
			if err != nil {
				t.Fatal(err)
			}
			wi := &cgroup.IO{ReadBytes: u(5096), WriteBytes: u(8192), ReadOps: u(2), WriteOps: u(3)}
			if w.noPeak {
				wi = &cgroup.IO{}
			}
			if diff := cmp.Diff(wi, io); diff != "" {
				t.Errorf("io (-want +got):\n%s", diff)
			}

			procs, err := c.Procs()
			if err != nil || len(procs) < 2 || procs[0] != 2543 || procs[1] != 2600 {
				t.Errorf("procs %v, %v", procs, err)
			}
			n, err := c.OOMKills()
			if err != nil || !cmp.Equal(n, wm.OOMKills) {
				t.Errorf("oom kills %v, %v", n, err)
			}

			o, err := cgroup.Open(root, w.path)
			if err != nil || o.Path != w.path {
				t.Errorf("open(%s): %v, %v", w.path, o, err)
			}
			if w.absPath != "" {
				o, err := cgroup.Open(root, w.absPath)
				if err != nil || o.Path != w.path {
					t.Errorf("open(%s): %v, %v", w.absPath, o, err)
				}
			}
			if _, err := cgroup.Open(root, "/nope"); !errors.Is(err, cgroup.ErrNoCgroup) || err.Error() != "cgroup /nope: no such cgroup" {
				t.Errorf("open(/nope): %v", err)
			}
		})
	}
}

// Podman limits the scope and runs the container in its child "container".
func TestFixturePodmanScope(t *testing.T) {
	root := trees.Unpack(t, "podman")
	c, err := cgroup.Open(root, "/sys/fs/cgroup/machine.slice/libpod-"+trees.ID("podman-web")+".scope")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Memory()
	if err != nil || m.Limit == nil || *m.Limit != 64<<20 || m.Unlimited {
		t.Errorf("scope memory: %+v, %v", m, err)
	}
	procs, err := c.Procs()
	if err != nil || len(procs) != 0 {
		t.Errorf("scope procs: %v, %v", procs, err)
	}
}

// A cgroup removed while it is read is an error naming it, not zeros.
func TestFixtureRemoved(t *testing.T) {
	root := trees.Unpack(t, "cgroupv2-systemd")
	c, err := cgroup.ForPID(root, 2543)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := c.Dir("")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Memory(); !errors.Is(err, cgroup.ErrNoCgroup) {
		t.Errorf("memory of a removed cgroup: %v", err)
	}
	if _, err := c.Procs(); !errors.Is(err, cgroup.ErrNoCgroup) {
		t.Errorf("procs of a removed cgroup: %v", err)
	}
	if _, err := cgroup.ForPID(root, 999999); err == nil || err.Error() != "process 999999: no such process" {
		t.Errorf("ForPID(999999): %v", err)
	}
}
