package docker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
)

// Stats is one container's figures, read from its cgroup and its network
// namespace (not from the engine's stats API, which waits for two samples).
type Stats struct {
	ID, Name string
	Memory   *cgroup.Memory
	CPU      *cgroup.CPU
	// CPUPercent is computed as docker does, over the interval: the
	// container's CPU time over the host's, times the online CPUs, in
	// percent (200 is two full CPUs). nil without an interval.
	CPUPercent *float64
	Pids       *cgroup.Pids
	IO         *cgroup.IO
	Net        *NetDev
}

// NetDev is the sum of /proc/PID/net/dev over the interfaces of the
// container's network namespace but lo, and each interface apart.
type NetDev struct {
	Total      NetCounters
	Interfaces map[string]NetCounters
}

// NetCounters are one interface's counters.
type NetCounters struct {
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// parseNetDev reads /proc/PID/net/dev.
func parseNetDev(b []byte) (*NetDev, error) {
	nd := &NetDev{Interfaces: map[string]NetCounters{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		if line <= 2 {
			continue
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			return nil, fmt.Errorf("line %d: no interface name", line)
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("line %d: %d fields, want 16", line, len(f))
		}
		var v [16]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			v[i] = n
		}
		c := NetCounters{
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		}
		name = strings.TrimSpace(name)
		nd.Interfaces[name] = c
		if name == "lo" {
			continue
		}
		t := &nd.Total
		t.RxBytes += c.RxBytes
		t.RxPackets += c.RxPackets
		t.RxErrors += c.RxErrors
		t.RxDropped += c.RxDropped
		t.TxBytes += c.TxBytes
		t.TxPackets += c.TxPackets
		t.TxErrors += c.TxErrors
		t.TxDropped += c.TxDropped
	}
	return nd, sc.Err()
}

// hostCPU is the host's total CPU time in ns and its online CPU count, from
// the cpu lines of /proc/stat (in USER_HZ ticks), as docker's stats do.
type hostCPU struct {
	totalNs uint64
	online  int
}

const clockTicks = 100 // USER_HZ on Linux

func parseProcStat(b []byte) (hostCPU, error) {
	var h hostCPU
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			h.online++
			continue
		}
		if len(f) < 8 {
			return h, fmt.Errorf("cpu line: %d fields, want at least 8", len(f))
		}
		var ticks uint64
		for _, s := range f[1:8] { // user nice system idle iowait irq softirq
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return h, fmt.Errorf("cpu line: %w", err)
			}
			ticks += n
		}
		h.totalNs = ticks * (1e9 / clockTicks)
		found = true
	}
	if !found {
		return h, fmt.Errorf("no cpu line")
	}
	return h, nil
}

func readHostCPU(root string) (hostCPU, error) {
	p := filepath.Join(root, "proc", "stat")
	b, err := os.ReadFile(p)
	if err != nil {
		return hostCPU{}, fmt.Errorf("%s: %w", p, err)
	}
	h, err := parseProcStat(b)
	if err != nil {
		return h, fmt.Errorf("%s: %w", p, err)
	}
	return h, nil
}

// StatTarget is what ReadStats needs of a container.
type StatTarget struct {
	ID, Name string
	PID      int
}

// ReadStats reads the stats of every target below host root. With interval
// > 0 it reads every cgroup's CPU time, sleeps once, and reads everything
// again, so CPUPercent costs one interval for all targets together. A
// target whose process is gone gets an error in errs at its index.
func ReadStats(ctx context.Context, root string, targets []StatTarget, interval time.Duration) ([]*Stats, []error) {
	out := make([]*Stats, len(targets))
	errs := make([]error, len(targets))
	cgs := make([]*cgroup.Cgroup, len(targets))
	ms, err := cgroup.ReadMounts(root)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	for i, t := range targets {
		subject := fmt.Sprintf("container %q", t.Name)
		if t.PID <= 0 {
			errs[i] = fmt.Errorf("%s: not running", subject)
			continue
		}
		cg, err := ms.ForPID(t.PID)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", subject, err)
			continue
		}
		cgs[i] = cg
	}
	var before []*uint64
	var host0 hostCPU
	if interval > 0 {
		if host0, err = readHostCPU(root); err != nil {
			for i := range errs {
				errs[i] = err
			}
			return out, errs
		}
		before = make([]*uint64, len(targets))
		for i, cg := range cgs {
			if cg == nil {
				continue
			}
			if cpu, err := cg.CPU(); err == nil {
				before[i] = cpu.UsageNs
			}
		}
		select {
		case <-ctx.Done():
			for i := range errs {
				errs[i] = ctx.Err()
			}
			return out, errs
		case <-time.After(interval):
		}
	}
	var host1 hostCPU
	if interval > 0 {
		if host1, err = readHostCPU(root); err != nil {
			for i := range errs {
				errs[i] = err
			}
			return out, errs
		}
	}
	for i, cg := range cgs {
		if cg == nil {
			continue
		}
		t := targets[i]
		s, err := readOne(root, cg, t)
		if err != nil {
			errs[i] = fmt.Errorf("container %q: %w", t.Name, err)
			continue
		}
		if interval > 0 && before[i] != nil && s.CPU != nil && s.CPU.UsageNs != nil {
			p := cpuPercent(*before[i], *s.CPU.UsageNs, host0, host1)
			s.CPUPercent = &p
		}
		out[i] = s
	}
	return out, errs
}

// cpuPercent is docker's formula: container delta over system delta, times
// the online CPUs, times 100.
func cpuPercent(cpu0, cpu1 uint64, h0, h1 hostCPU) float64 {
	if cpu1 < cpu0 || h1.totalNs <= h0.totalNs {
		return 0
	}
	online := h1.online
	if online == 0 {
		online = 1
	}
	return float64(cpu1-cpu0) / float64(h1.totalNs-h0.totalNs) * float64(online) * 100
}

func readOne(root string, cg *cgroup.Cgroup, t StatTarget) (*Stats, error) {
	s := &Stats{ID: t.ID, Name: t.Name}
	var err error
	if s.Memory, err = cg.Memory(); err != nil {
		return nil, err
	}
	if s.CPU, err = cg.CPU(); err != nil {
		return nil, err
	}
	if s.Pids, err = cg.Pids(); err != nil {
		return nil, err
	}
	if s.IO, err = cg.IO(); err != nil {
		return nil, err
	}
	p := filepath.Join(root, "proc", strconv.Itoa(t.PID), "net", "dev")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if s.Net, err = parseNetDev(b); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}
