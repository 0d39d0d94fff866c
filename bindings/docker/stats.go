package docker

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/proc"
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
	for line := 1; len(b) > 0; line++ {
		var l []byte
		l, b, _ = bytes.Cut(b, []byte("\n"))
		if line <= 2 {
			continue
		}
		name, rest, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			return nil, fmt.Errorf("line %d: no interface name", line)
		}
		v, n, err := netFields(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if n < 16 {
			return nil, fmt.Errorf("line %d: %d fields, want 16", line, n)
		}
		c := NetCounters{
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		}
		iface := string(bytes.TrimSpace(name))
		nd.Interfaces[iface] = c
		if iface == "lo" {
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
	return nd, nil
}

// netFields parses the first 16 space-separated decimal fields of a
// net/dev line's counters without allocating; n is how many there were.
func netFields(b []byte) (v [16]uint64, n int, err error) {
	for n < len(v) {
		b = bytes.TrimLeft(b, " \t")
		if len(b) == 0 {
			break
		}
		end := bytes.IndexAny(b, " \t")
		if end < 0 {
			end = len(b)
		}
		var x uint64
		for _, c := range b[:end] {
			d := uint64(c - '0')
			if c < '0' || c > '9' || x > (math.MaxUint64-d)/10 {
				return v, n, fmt.Errorf("field %d: %q is not a counter", n+1, b[:end])
			}
			x = x*10 + d
		}
		v[n], b = x, b[end:]
		n++
	}
	return v, n, nil
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

// StatTarget is what ReadStats needs of a container: its id (its cgroup
// is found from it, see cgroup.ForContainer) or a process of it, or its
// cgroup itself.
type StatTarget struct {
	ID, Name string
	PID      int            // a process of it; 0: the first of its cgroup.procs
	Cgroup   *cgroup.Cgroup // nil: found from ID, else from PID
}

// StatFields selects what ReadStats reads: each group of figures, in full
// (the files c:stats reads) or Brief (what docker stats shows: memory
// usage, limit and working set; CPU time; the current PID count; the
// network counters).
type StatFields struct {
	Memory, CPU, Pids, IO, Net bool
	Brief                      bool
}

var (
	// FullStats is every figure (c:stats).
	FullStats = StatFields{Memory: true, CPU: true, Pids: true, IO: true, Net: true}
	// BriefStats is docker.stats' default: what docker stats shows.
	BriefStats = StatFields{Memory: true, CPU: true, Pids: true, Net: true, Brief: true}
)

// ReadStats reads the full stats of every target below host root (see
// ReadStatsOf).
func ReadStats(ctx context.Context, root string, targets []StatTarget, interval time.Duration) ([]*Stats, []error) {
	return ReadStatsOf(ctx, root, targets, interval, FullStats)
}

// ReadStatsOf reads the figures fields selects of every target below host
// root, spread over the CPUs. With interval > 0 it reads every cgroup's
// CPU time, sleeps once, and reads everything again, so CPUPercent costs
// one interval for all targets together. A target whose cgroup is gone
// gets an error in errs at its index.
func ReadStatsOf(ctx context.Context, root string, targets []StatTarget, interval time.Duration, fields StatFields) ([]*Stats, []error) {
	out := make([]*Stats, len(targets))
	errs := make([]error, len(targets))
	fail := func(err error) ([]*Stats, []error) {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	cgs, err := statCgroups(ctx, root, targets, errs)
	if err != nil {
		return fail(err)
	}
	var before []*uint64
	var host0, host1 hostCPU
	if interval > 0 {
		fields.CPU = true
		if host0, err = readHostCPU(root); err != nil {
			return fail(err)
		}
		before = make([]*uint64, len(targets))
		parallel(len(cgs), func(i int) {
			if cgs[i] != nil {
				if cpu, err := cgs[i].CPUBrief(); err == nil {
					before[i] = cpu.UsageNs
				}
			}
		})
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(interval):
		}
		if host1, err = readHostCPU(root); err != nil {
			return fail(err)
		}
	}
	parallel(len(cgs), func(i int) {
		if cgs[i] == nil {
			return
		}
		t := targets[i]
		s, err := readOne(root, cgs[i], t, fields)
		if err != nil {
			errs[i] = fmt.Errorf("container %q: %w", t.Name, err)
			return
		}
		if interval > 0 && before[i] != nil && s.CPU != nil && s.CPU.UsageNs != nil {
			p := cpuPercent(*before[i], *s.CPU.UsageNs, host0, host1)
			s.CPUPercent = &p
		}
		out[i] = s
	})
	return out, errs
}

// statCgroups finds the cgroup of each target: its own, else from its id,
// else from its PID. Targets found by neither are looked for in one pass
// over /proc. The error of a target not found is set in errs.
func statCgroups(ctx context.Context, root string, targets []StatTarget, errs []error) ([]*cgroup.Cgroup, error) {
	ms, err := cgroup.CachedMounts(root)
	if err != nil {
		return nil, err
	}
	cgs := make([]*cgroup.Cgroup, len(targets))
	var missing atomic.Bool
	parallel(len(targets), func(i int) {
		t := targets[i]
		switch {
		case t.Cgroup != nil:
			cgs[i] = t.Cgroup
			return
		case t.PID > 0:
			cgs[i], errs[i] = ms.ForPID(t.PID)
		default:
			cgs[i], errs[i] = ms.ForContainer(t.ID)
		}
		if errs[i] != nil {
			missing.Store(true)
		}
	})
	if !missing.Load() {
		return cgs, nil
	}
	var pids map[string]int
	if fs, err := proc.NewFS(root); err == nil {
		pids, _ = fs.ContainerPIDs(ctx)
	}
	for i, t := range targets {
		if errs[i] == nil {
			continue
		}
		subject := fmt.Sprintf("container %q", t.Name)
		pid := pids[t.ID]
		if pid <= 0 {
			errs[i] = fmt.Errorf("%s: not running", subject)
			continue
		}
		if cgs[i], errs[i] = ms.ForPID(pid); errs[i] != nil {
			errs[i] = fmt.Errorf("%s: %w", subject, errs[i])
		}
		targets[i].PID = pid
	}
	return cgs, nil
}

// parallel calls fn(i) for i in [0, n) on up to GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || n < 4 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
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

func readOne(root string, cg *cgroup.Cgroup, t StatTarget, f StatFields) (*Stats, error) {
	s := &Stats{ID: t.ID, Name: t.Name}
	var err error
	read := func(brief, full func() error) {
		switch {
		case err != nil:
		case f.Brief && brief != nil:
			err = brief()
		default:
			err = full()
		}
	}
	if f.Memory {
		read(func() (e error) { s.Memory, e = cg.MemoryBrief(); return },
			func() (e error) { s.Memory, e = cg.Memory(); return })
	}
	if f.CPU {
		read(func() (e error) { s.CPU, e = cg.CPUBrief(); return },
			func() (e error) { s.CPU, e = cg.CPU(); return })
	}
	if f.Pids {
		read(func() (e error) { s.Pids, e = cg.PidsBrief(); return },
			func() (e error) { s.Pids, e = cg.Pids(); return })
	}
	if f.IO {
		read(nil, func() (e error) { s.IO, e = cg.IO(); return })
	}
	if err != nil {
		return nil, err
	}
	if f.Net {
		if s.Net, err = readNet(root, cg, t.PID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readNet reads /proc/PID/net/dev of a process of the container: pid, or
// the first process of its cgroup.
func readNet(root string, cg *cgroup.Cgroup, pid int) (*NetDev, error) {
	if pid <= 0 {
		var err error
		if pid, err = cg.FirstProc(); err != nil {
			return nil, err
		}
		if pid <= 0 {
			return nil, nil // no process (yet): no network namespace to read
		}
	}
	p := filepath.Join(root, "proc", strconv.Itoa(pid), "net", "dev")
	var nd *NetDev
	err := cgroup.WithFile(p, func(b []byte) (err error) {
		nd, err = parseNetDev(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return nd, nil
}
