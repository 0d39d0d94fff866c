package cgroup_test

import (
	"errors"
	"os"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// or is *p, or -1 when p is nil (a Sample's unknown).
func or(p *uint64) int64 {
	if p == nil {
		return -1
	}
	return int64(*p)
}

// A Sample reads, from fewer files, what the full readers read, on every
// layout (v1, v2, hybrid, old kernels, systemd, Kubernetes, Podman, CRI-O).
func TestSampleAgreesWithFullReads(t *testing.T) {
	for _, w := range layouts {
		t.Run(w.tree, func(t *testing.T) {
			root := trees.Unpack(t, w.tree)
			c, err := cgroup.ForPID(root, 2543)
			if err != nil {
				t.Fatal(err)
			}
			m, err1 := c.Memory()
			cpu, err2 := c.CPU()
			p, err3 := c.Pids()
			io, err4 := c.IO()
			if err := errors.Join(err1, err2, err3, err4); err != nil {
				t.Fatal(err)
			}
			s, err := c.Sampler().Read()
			if err != nil {
				t.Fatal(err)
			}
			want := cgroup.Sample{
				MemUsage: or(m.Usage), MemLimit: or(m.Limit), WorkingSet: or(m.WorkingSet), OOMKills: or(m.OOMKills),
				CPUNs: or(cpu.UsageNs), Pids: or(p.Current), ReadBytes: or(io.ReadBytes), WriteBytes: or(io.WriteBytes),
			}
			if s != want {
				t.Errorf("Sample %+v, want %+v", s, want)
			}
			if s.MemUsage != 10485760 || s.WorkingSet != 8388608 {
				t.Errorf("usage %d, working set %d: not the tree's", s.MemUsage, s.WorkingSet)
			}
		})
	}
}

// When the container stops its cgroup goes: the error says so.
func TestSampleOfRemovedCgroup(t *testing.T) {
	root := trees.Unpack(t, "cgroupv2-cgroupfs")
	c, err := cgroup.ForPID(root, 2543)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sampler()
	dir, _ := c.Dir("")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(); !errors.Is(err, cgroup.ErrNoCgroup) {
		t.Errorf("Read of a removed cgroup: %v, want ErrNoCgroup", err)
	}
}
