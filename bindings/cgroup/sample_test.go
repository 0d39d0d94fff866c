package cgroup_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

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

// On the host's cgroupfs: a Sampler reads fresh figures each time from
// files it keeps open, says when the cgroup is removed, and reads the one
// made again at the same path (a restarted container's).
func TestHostSamplerRereads(t *testing.T) {
	c := memoryCgroup(t, 64<<20)
	s := c.Sampler()
	defer s.Close()
	before, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if before.MemLimit != 64<<20 {
		t.Errorf("limit %d, want 64 MiB", before.MemLimit)
	}
	cmd := startIn(t, c, "x=$(head -c 16000000 /dev/zero | tr '\\0' a); echo ready; sleep 100")
	deadline := time.Now().Add(10 * time.Second)
	var after cgroup.Sample
	for ; time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if after, err = s.Read(); err != nil {
			t.Fatal(err)
		}
		if after.MemUsage > before.MemUsage+12<<20 {
			break
		}
	}
	if after.MemUsage <= before.MemUsage+12<<20 {
		t.Errorf("after allocating 16 MB: usage %d (before %d)", after.MemUsage, before.MemUsage)
	}
	cmd.Process.Kill()
	cmd.Wait()
	dir, _ := c.Dir("memory")
	for i := 0; i < 100 && os.Remove(dir) != nil; i++ {
		pids, _ := c.Procs()
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.Read(); !errors.Is(err, cgroup.ErrNoCgroup) {
		t.Errorf("after rmdir: %v, want ErrNoCgroup", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	again, err := s.Read()
	if err != nil || again.MemUsage > 1<<20 || again.MemLimit != -1 {
		t.Errorf("the cgroup made again: %+v, %v; want its own figures (no limit, little usage)", again, err)
	}
}
