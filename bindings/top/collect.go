package top

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
)

// Row is one container in a Snapshot. Figures are -1 when unknown (the
// kernel has no such file; CPUPercent until a second sample).
type Row struct {
	ID, Name, Image, Runtime string
	Source                   string // "engine", or "disk": read from the engine's state on disk
	Pod                      string // "namespace/name" of its Kubernetes pod, where known
	PID                      int
	CPUPercent               float64 // over the time since the last sample; 100 is one CPU
	MemUsage                 int64   // the working set: usage less inactive file pages, as docker stats
	MemLimit                 int64   // -1 when unlimited
	MemPercent               float64 // MemUsage of MemLimit
	Pids                     int64
	OOMKills                 int64 // the cgroup's count: the engine misses kills that leave the container running
	Restarts                 int64
	NetRx, NetTx             int64 // bytes, every interface but lo
	BlockRead, BlockWrite    int64 // bytes
}

// Snapshot is one refresh of every container.
type Snapshot struct {
	Rows   []Row
	At     time.Time
	Source string // where the containers come from
	// Err is why the list failed: Rows are then the containers last
	// listed, their figures read now (the cgroup files need no engine).
	Err error
	// Note is what the Source says about the list ("containers from the
	// engine's state on disk").
	Note string
}

// Collector reads the figures of every container a Source lists, from
// the cgroup files and /proc/PID/net/dev, keeping each container's cgroup
// and last CPU time between refreshes.
type Collector struct {
	src    Source
	root   string
	mounts *cgroup.Mounts
	byID   map[string]*tracked
	last   []Target
	buf    []byte
	now    func() time.Time

	mu    sync.Mutex
	names map[string]string // id → name of the containers last listed

	running sync.Mutex // held by Collect and Close
}

// tracked is what a Collector keeps of a container.
type tracked struct {
	pid   int
	s     *cgroup.Sampler // nil when the cgroup was not found
	net   int             // /proc/PID/net/dev, open; -1 until opened
	cpuNs int64
	at    time.Time
}

func (t *tracked) close() {
	if t.s != nil {
		t.s.Close()
	}
	if t.net >= 0 {
		unix.Close(t.net)
		t.net = -1
	}
}

// NewCollector reads the containers of src below host root ("/").
func NewCollector(src Source, root string) (*Collector, error) {
	ms, err := cgroup.ReadMounts(root)
	if err != nil {
		return nil, err
	}
	return &Collector{src: src, root: root, mounts: ms, byID: map[string]*tracked{}, buf: make([]byte, 4096), now: time.Now}, nil
}

// Collect takes one sample of every container.
func (c *Collector) Collect(ctx context.Context) Snapshot {
	c.running.Lock()
	defer c.running.Unlock()
	targets, err := c.src.List(ctx)
	if err != nil {
		targets = c.last
	} else {
		c.last = targets
		c.setNames(targets)
	}
	now := c.now()
	snap := Snapshot{Rows: make([]Row, 0, len(targets)), At: now, Source: c.src.Name(), Err: err}
	if n, ok := c.src.(noter); ok {
		snap.Note = n.Note()
	}
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		seen[t.ID] = true
		if r, ok := c.row(t, now); ok {
			snap.Rows = append(snap.Rows, r)
		}
	}
	for id, tr := range c.byID {
		if !seen[id] {
			tr.close()
			delete(c.byID, id)
		}
	}
	return snap
}

// Close closes the files the Collector keeps open (a later Collect opens
// them again).
func (c *Collector) Close() {
	c.running.Lock()
	defer c.running.Unlock()
	for id, tr := range c.byID {
		tr.close()
		delete(c.byID, id)
	}
}

func (c *Collector) setNames(targets []Target) {
	names := make(map[string]string, len(targets))
	for _, t := range targets {
		names[t.ID] = t.Name
	}
	c.mu.Lock()
	c.names = names
	c.mu.Unlock()
}

// Name is the name of container id as last listed ("" when unknown); it
// may be called from any goroutine (a tracer naming its events).
func (c *Collector) Name(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names[id]
}

// row reads one container; false when it is gone (its cgroup removed).
func (c *Collector) row(t Target, now time.Time) (Row, bool) {
	r := Row{ID: t.ID, Name: t.Name, Image: t.Image, Runtime: t.Runtime, Source: t.Source, Pod: t.Pod, PID: t.PID, Restarts: int64(t.Restarts),
		CPUPercent: -1, MemUsage: -1, MemLimit: -1, MemPercent: -1, Pids: -1, OOMKills: -1,
		NetRx: -1, NetTx: -1, BlockRead: -1, BlockWrite: -1}
	tr := c.byID[t.ID]
	if tr == nil || tr.pid != t.PID {
		if tr != nil {
			tr.close()
		}
		tr = &tracked{pid: t.PID, net: -1, cpuNs: -1}
		if cg, err := c.mounts.ForPID(t.PID); err == nil {
			tr.s = cg.Sampler()
		}
		c.byID[t.ID] = tr
	}
	if tr.s != nil {
		sm, err := tr.s.Read()
		if errors.Is(err, cgroup.ErrNoCgroup) {
			tr.close()
			delete(c.byID, t.ID)
			return r, false
		}
		if err == nil {
			c.fill(&r, tr, sm, now)
		}
	}
	r.NetRx, r.NetTx = c.netDev(tr)
	return r, true
}

// fill sets r's cgroup figures from sm, and CPU% from the last sample.
func (c *Collector) fill(r *Row, tr *tracked, sm cgroup.Sample, now time.Time) {
	r.MemUsage, r.MemLimit, r.Pids, r.OOMKills = sm.WorkingSet, sm.MemLimit, sm.Pids, sm.OOMKills
	r.BlockRead, r.BlockWrite = sm.ReadBytes, sm.WriteBytes
	if r.MemUsage >= 0 && r.MemLimit > 0 {
		r.MemPercent = float64(r.MemUsage) / float64(r.MemLimit) * 100
	}
	if tr.cpuNs >= 0 && sm.CPUNs >= tr.cpuNs && now.After(tr.at) {
		r.CPUPercent = float64(sm.CPUNs-tr.cpuNs) / float64(now.Sub(tr.at).Nanoseconds()) * 100
	}
	tr.cpuNs, tr.at = sm.CPUNs, now
}

// netDev sums the rx and tx bytes of /proc/PID/net/dev but lo, from the
// file kept open and read again from its start; -1 when it cannot be read.
func (c *Collector) netDev(tr *tracked) (rx, tx int64) {
	if tr.net < 0 {
		fd, err := unix.Open(c.root+"/proc/"+strconv.Itoa(tr.pid)+"/net/dev", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, -1
		}
		tr.net = fd
	}
	b, err := c.pread(tr.net)
	if err != nil {
		unix.Close(tr.net)
		tr.net = -1
		return -1, -1
	}
	return parseNetDev(b)
}

// pread reads the whole of fd from its start into the Collector's buffer.
func (c *Collector) pread(fd int) ([]byte, error) {
	n := 0
	for {
		if n == len(c.buf) {
			c.buf = append(c.buf, make([]byte, len(c.buf))...)
		}
		m, err := unix.Pread(fd, c.buf[n:], int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, err
		case m == 0:
			return c.buf[:n], nil
		}
		n += m
	}
}

// parseNetDev sums received (first) and sent (ninth) bytes of every
// interface but lo in /proc/PID/net/dev.
func parseNetDev(b []byte) (rx, tx int64) {
	for i := 0; len(b) > 0; i++ {
		line := b
		if j := bytes.IndexByte(b, '\n'); j >= 0 {
			line, b = b[:j], b[j+1:]
		} else {
			b = nil
		}
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if i < 2 || !ok || string(bytes.TrimSpace(name)) == "lo" {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, err1 := strconv.ParseInt(string(f[0]), 10, 64)
		t, err2 := strconv.ParseInt(string(f[8]), 10, 64)
		if err1 == nil && err2 == nil {
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}
