package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/proc"
)

// Config is what the recorder needs. Zero values are defaults.
type Config struct {
	Path    string        // the database (default Path())
	Retain  time.Duration // rows older than this are deleted; 0 keeps them
	MaxSize int64         // bytes of database pages in use; past it the oldest rows go; 0: no limit
	Sample  time.Duration // a sample of every running container this often; 0: none
	Engine  *docker.Engine
	// CRI is a Kubernetes node's runtime (containerd, CRI-O): its events
	// (source "cri"), its containers' exits and samples are recorded too.
	// Engine may be nil when CRI is set (a node without Docker).
	CRI *cri.Client
	// HostRoot is where /proc, /sys/fs/cgroup and /dev/kmsg are ("/").
	HostRoot string
	// Kmsg opens the kernel's log (default: /dev/kmsg below HostRoot).
	Kmsg func() (KmsgReader, error)
	// Log receives the recorder's messages (default os.Stderr).
	Log io.Writer
	// Tick is how often the writer commits (default 200ms).
	Tick time.Duration
	// MaxPending bounds the rows kept in memory while writes fail (default 200000).
	MaxPending int
	// Now is the clock (default time.Now).
	Now func() time.Time

	logf func(format string, args ...any)
}

// ErrLocked is wrapped by Record's error when another recorder holds the
// journal.
var ErrLocked = errors.New("another recorder holds it")

func (c *Config) defaults() {
	if c.Path == "" {
		c.Path = Path()
	}
	if c.HostRoot == "" {
		c.HostRoot = "/"
	}
	if c.Kmsg == nil {
		root := c.HostRoot
		c.Kmsg = func() (KmsgReader, error) { return OpenKmsg(root) }
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.Tick <= 0 {
		c.Tick = 200 * time.Millisecond
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 200000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	var mu sync.Mutex
	c.logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(c.Log, "ctrsh: "+format+"\n", args...)
	}
}

// Lock takes the recorder's lock of the journal at path (PATH.lock, flock):
// one recorder per database. It is released when the process exits.
func Lock(path string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	lp := path + ".lock"
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal %s: lock: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lp)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				return nil, fmt.Errorf("journal %s: %w (pid %s)", path, ErrLocked, pid)
			}
			return nil, fmt.Errorf("journal %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("journal %s: lock: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}

// recorder is one run of Record.
type recorder struct {
	cfg    *Config
	store  *Store
	w      *writer
	mounts *cgroup.Mounts
	bootID string    // the first 8 characters of the kernel's boot id
	boot   time.Time // wall time of the kernel's clock zero (for /dev/kmsg)

	mu         sync.Mutex
	names      map[string]string         // container id → name
	cgs        map[string]*watchedCgroup // container id → its memory cgroup
	oomCounts  map[string]uint64         // cgroup key → the last OOM kill count recorded
	checking   map[string]bool           // container ids with an OOM check under way
	lastTarget []docker.StatTarget       // the last sampled containers (for when the engine is down)
	lastEngine time.Time                 // the newest engine event handled
	lastCRI    time.Time                 // the newest CRI runtime event handled
	evq        chan events.Event         // from the event stream to handle
	wg         sync.WaitGroup
}

type watchedCgroup struct {
	cg  *cgroup.Cgroup
	pid int
	key string // boot id and the memory cgroup directory's inode: new for each start
}

// Record runs the recorder until ctx ends: it takes the journal's lock,
// opens (or creates) the database, and records engine events, OOM kills,
// exits and samples. It returns nil when ctx ends, or why it could not
// start.
func Record(ctx context.Context, cfg Config) error {
	cfg.defaults()
	if cfg.Engine == nil && cfg.CRI == nil {
		return errors.New("journal: no engine client and no CRI runtime")
	}
	release, err := Lock(cfg.Path)
	if err != nil {
		return err
	}
	defer release()
	store, err := Open(ctx, cfg.Path)
	if err != nil {
		return err
	}
	defer store.Close()
	r := &recorder{cfg: &cfg, store: store, names: map[string]string{}, cgs: map[string]*watchedCgroup{},
		oomCounts: map[string]uint64{}, checking: map[string]bool{}, evq: make(chan events.Event, 65536)}
	if r.w, err = newWriter(ctx, store, &cfg); err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(cfg.HostRoot, "proc/sys/kernel/random/boot_id")); err == nil {
		r.bootID = strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
		r.bootID = r.bootID[:min(8, len(r.bootID))]
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		r.boot = time.Now().Add(-time.Duration(ts.Nano()))
	}
	if r.mounts, err = cgroup.ReadMounts(cfg.HostRoot); err != nil {
		cfg.logf("journal %s: cgroups not readable (%v): no samples or OOM counters", cfg.Path, err)
	}
	if last, err := store.lastEngineEvent(ctx); err == nil {
		r.lastEngine = last
	}
	if last, err := store.lastSourceEvent(ctx, SourceCRI); err == nil {
		r.lastCRI = last
	}

	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	writerDone := make(chan struct{})
	go func() {
		r.w.run(wctx)
		close(writerDone)
	}()
	r.w.add(ctx, &Event{Time: cfg.Now(), Source: SourceCtrsh, Type: "journal", Action: ActionStart,
		Attributes: map[string]string{"pid": strconv.Itoa(os.Getpid())}})
	cfg.logf("journal %s: recording (retain %s, max size %d bytes, samples every %s)", cfg.Path, cfg.Retain, cfg.MaxSize, cfg.Sample)

	r.wg.Add(5)
	go func() { defer r.wg.Done(); r.streamEvents(ctx) }()
	go func() { defer r.wg.Done(); r.streamCRIEvents(ctx) }()
	go func() { defer r.wg.Done(); r.handleEvents(ctx) }()
	go func() { defer r.wg.Done(); r.sampleLoop(ctx) }()
	go func() { defer r.wg.Done(); r.kmsgLoop(ctx) }()
	<-ctx.Done()
	r.wg.Wait()
	r.w.add(wctx, &Event{Time: cfg.Now(), Source: SourceCtrsh, Type: "journal", Action: ActionStop})
	stopWriter()
	<-writerDone
	cfg.logf("journal %s: stopped", cfg.Path)
	return nil
}

// sink hands the event stream's events to handleEvents without ever
// blocking the stream's reader.
type sink struct {
	ctx context.Context
	ch  chan events.Event
}

func (s *sink) TrySend(ev events.Event) bool {
	select {
	case s.ch <- ev:
		return true
	default:
		return false
	}
}

func (s *sink) Context() context.Context { return s.ctx }

// streamEvents follows the engine's events from the newest one recorded
// (a second early: rows already there are not written twice), through
// engine restarts, and notes when the engine is away.
func (r *recorder) streamEvents(ctx context.Context) {
	if r.cfg.Engine == nil {
		return
	}
	down := false
	for ctx.Err() == nil {
		r.mu.Lock()
		since := r.lastEngine
		r.mu.Unlock()
		if since.IsZero() {
			// A new journal starts with what the engine still remembers.
			since = r.cfg.Now().Add(-24 * time.Hour)
		} else {
			since = since.Add(-time.Second)
		}
		err := r.cfg.Engine.Negotiate(ctx)
		var sub *events.Subscription
		if err == nil {
			sub, err = events.Subscribe(ctx, r.cfg.Engine, events.Options{Since: since, EngineStatus: true})
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !down {
				down = true
				r.cfg.logf("journal %s: engine not answering (%v): retrying", r.cfg.Path, err)
				r.enqueue(ctx, events.Event{Type: "ctrsh", Action: "engine_down", TimeNano: r.cfg.Now().UnixNano(),
					Attributes: map[string]string{"error": err.Error()}})
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if down {
			down = false
			r.cfg.logf("journal %s: engine answering again", r.cfg.Path)
			r.enqueue(ctx, events.Event{Type: "ctrsh", Action: "engine_up", TimeNano: r.cfg.Now().UnixNano()})
		}
		sub.Run(&sink{ctx: ctx, ch: r.evq})
	}
}

// streamCRIEvents follows the CRI runtime's events, resumed as the
// engine's are: from the newest one recorded, a second early (the runtime
// keeps no history: what its containers' statuses still tell of that time;
// see the cri module).
func (r *recorder) streamCRIEvents(ctx context.Context) {
	if r.cfg.CRI == nil {
		return
	}
	failing := false
	for ctx.Err() == nil {
		r.mu.Lock()
		since := r.lastCRI
		r.mu.Unlock()
		if since.IsZero() {
			since = r.cfg.Now().Add(-24 * time.Hour)
		} else {
			since = since.Add(-time.Second)
		}
		o := events.Options{Since: since}
		sub, err := events.SubscribeTo(ctx, r.cfg.CRI.EventSource(o), o)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				failing = true
				r.cfg.logf("journal %s: CRI runtime not answering (%v): retrying", r.cfg.Path, err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		failing = false
		sub.Run(&sink{ctx: ctx, ch: r.evq})
	}
}

// lookup finds a container by id: the engine's, else the CRI runtime's.
func (r *recorder) lookup(ctx context.Context, id string) (*docker.Container, error) {
	var err error
	if r.cfg.Engine != nil {
		var c *docker.Container
		if c, err = docker.Lookup(ctx, r.cfg.Engine, id); err == nil {
			return c, nil
		}
	}
	if r.cfg.CRI != nil {
		return r.cfg.CRI.Container(ctx, id)
	}
	return nil, err
}

// isCRI reports whether ev came from the CRI runtime (its events name
// their runtime; the engine's do not).
func isCRI(ev events.Event) bool {
	rt := ev.Attributes["runtime"]
	return rt != "" && rt != "docker" && rt != "podman"
}

func (r *recorder) enqueue(ctx context.Context, ev events.Event) {
	select {
	case r.evq <- ev:
	case <-ctx.Done():
	}
}

// handleEvents turns events into rows; a die is completed with the
// engine's OOMKilled and restart count, an oom makes the container's
// counter be read.
func (r *recorder) handleEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.evq:
			if row := r.eventRow(ctx, ev); row != nil {
				r.w.add(ctx, row)
			}
		}
	}
}

// EngineDedup is the identity of an engine event: its time, type, action
// and actor (containers by the first 16 characters of their id).
func EngineDedup(typ, action, id string, timeNano int64) string {
	if len(id) == 64 && isHex(id) {
		id = id[:16]
	}
	return fmt.Sprintf("e:%d:%s:%s:%s", timeNano, typ, action, id)
}

func (r *recorder) eventRow(ctx context.Context, ev events.Event) *Event {
	now := time.Unix(0, ev.TimeNano)
	if ev.Type == "ctrsh" {
		row := &Event{Time: now, Source: SourceCtrsh, Type: "engine", Action: ev.Action, Attributes: ev.Attributes}
		switch ev.Action {
		case "engine_down", "engine_up":
			r.cfg.logf("journal %s: %s", r.cfg.Path, strings.ReplaceAll(ev.Action, "_", " "))
		case "overflow":
			row.Type = "journal"
			r.cfg.logf("journal %s: the event stream overflowed: %s events dropped", r.cfg.Path, ev.Attributes["dropped"])
		}
		return row
	}
	row := &Event{Time: now, Source: SourceEngine, Type: ev.Type, Action: ev.Action, ActorID: ev.ID,
		Image: ev.Image, Attributes: ev.Attributes}
	last := &r.lastEngine
	if isCRI(ev) {
		row.Source, last = SourceCRI, &r.lastCRI
	}
	if ev.Attributes["reconciled"] != "true" {
		row.Dedup = EngineDedup(ev.Type, ev.Action, ev.ID, ev.TimeNano)
		r.mu.Lock()
		if now.After(*last) {
			*last = now
		}
		r.mu.Unlock()
	}
	if ev.Type != "container" {
		return row
	}
	row.ContainerID, row.ContainerName = ev.ID, ev.Name
	r.mu.Lock()
	if ev.Name != "" {
		r.names[ev.ID] = ev.Name
	}
	r.mu.Unlock()
	switch ev.Action {
	case "die":
		if code, err := strconv.Atoi(ev.Attributes["exitCode"]); err == nil {
			row.ExitCode = &code
		}
		r.exitDetails(ctx, row)
	case "oom":
		r.checkOOMSoon(ctx, ev.ID, ev.Name)
	case "destroy":
		r.mu.Lock()
		delete(r.cgs, ev.ID)
		r.mu.Unlock()
	}
	return row
}

// exitDetails adds OOMKilled and the restart count to a die row, from the
// container's runtime (the engine's inspect, the CRI's status), when the
// container's last finish is this death (the engine counts the restart
// before it reports the die; a CRI runtime's restart is another container).
func (r *recorder) exitDetails(ctx context.Context, row *Event) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := r.lookup(ctx, row.ContainerID)
	if err != nil {
		return // removed already (--rm), or the runtime went away
	}
	if c.FinishedAt.IsZero() || c.FinishedAt.Sub(row.Time).Abs() > 2*time.Second {
		return // it has died again since: these figures are not this death's
	}
	oom, restarts := c.OOMKilled, c.RestartCount
	row.OOMKilled, row.RestartCount = &oom, &restarts
}

// cgroupOf returns the memory cgroup of a container through one of its
// processes, checking that the cgroup is the container's.
func (r *recorder) cgroupOf(id string, pid int) *watchedCgroup {
	if r.mounts == nil || pid <= 0 {
		return nil
	}
	r.mu.Lock()
	wc := r.cgs[id]
	r.mu.Unlock()
	if wc != nil && wc.pid == pid {
		return wc
	}
	cg, err := r.mounts.ForPID(pid)
	if err != nil || !strings.Contains(cg.Path, id) {
		return nil
	}
	dir, ok := cg.Dir("memory")
	if !ok {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return nil
	}
	wc = &watchedCgroup{cg: cg, pid: pid, key: fmt.Sprintf("%s:%d", r.bootID, st.Ino)}
	r.mu.Lock()
	r.cgs[id] = wc
	r.mu.Unlock()
	return wc
}

// baseline is the last OOM kill count recorded for a cgroup: remembered,
// or on the first look what the journal already has for it (0 if nothing).
func (r *recorder) baseline(ctx context.Context, key string) uint64 {
	r.mu.Lock()
	last, ok := r.oomCounts[key]
	r.mu.Unlock()
	if ok {
		return last
	}
	last = r.store.lastCgroupCount(ctx, key)
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.oomCounts[key]; ok && cur > last {
		return cur
	}
	r.oomCounts[key] = last
	return last
}

// noteOOMCount records a rise of a cgroup's OOM kill counter: one row
// with the count after it and how many kills it adds.
func (r *recorder) noteOOMCount(ctx context.Context, id, name string, wc *watchedCgroup, count uint64) {
	r.baseline(ctx, wc.key)
	r.mu.Lock()
	last := r.oomCounts[wc.key]
	if count <= last {
		r.mu.Unlock()
		return
	}
	r.oomCounts[wc.key] = count
	if name == "" {
		name = r.names[id]
	}
	r.mu.Unlock()
	n := count
	r.w.add(ctx, &Event{Time: r.cfg.Now(), Source: SourceCgroup, Type: "container", Action: ActionOOMKill,
		ActorID: id, ContainerID: id, ContainerName: name, OOMKills: &n, Memcg: wc.cg.Path,
		Attributes: map[string]string{"new": strconv.FormatUint(count-last, 10)},
		Dedup:      fmt.Sprintf("c:%s:%d", wc.key, count)})
}

// oomSettle bounds how long an OOM notice (an engine oom event, a kernel
// log line) waits for the counter to rise: the kernel counts the kill a
// moment after it reports the OOM.
var oomSettle = 3 * time.Second

// checkOOMSoon reads a container's OOM counter until it rises or
// oomSettle passes, in the background.
func (r *recorder) checkOOMSoon(ctx context.Context, id, name string) {
	r.mu.Lock()
	if r.checking[id] {
		r.mu.Unlock()
		return
	}
	r.checking[id] = true
	wc := r.cgs[id]
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.checking, id)
			r.mu.Unlock()
		}()
		if wc == nil {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			c, err := r.lookup(lctx, id)
			cancel()
			if err != nil {
				return
			}
			if wc = r.cgroupOf(id, c.PID); wc == nil {
				return
			}
		}
		last := r.baseline(ctx, wc.key)
		deadline := time.Now().Add(oomSettle)
		for {
			count, err := wc.cg.OOMKills()
			if err != nil || count == nil {
				return
			}
			if *count > last || time.Now().After(deadline) {
				r.noteOOMCount(ctx, id, name, wc, *count)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
}

// lastCgroupCount is the highest count recorded for a cgroup key.
func (s *Store) lastCgroupCount(ctx context.Context, key string) uint64 {
	var n *int64
	s.db.QueryRowContext(ctx, `SELECT max(oom_kills) FROM events WHERE dedup >= ? AND dedup < ?`,
		"c:"+key+":", "c:"+key+";").Scan(&n)
	if n == nil || *n < 0 {
		return 0
	}
	return uint64(*n)
}

// sampleLoop samples every running container each cfg.Sample.
func (r *recorder) sampleLoop(ctx context.Context) {
	if r.cfg.Sample <= 0 || r.mounts == nil {
		return
	}
	t := time.NewTicker(r.cfg.Sample)
	defer t.Stop()
	r.sampleOnce(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sampleOnce(ctx)
		}
	}
}

// sampleOnce reads every running container's cgroup figures (the code of
// docker.stats) and writes a sample of each. With the engine down it
// samples the containers of the last look that still have processes.
func (r *recorder) sampleOnce(ctx context.Context) {
	root := r.cfg.HostRoot
	targets, err := r.statTargets(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		targets = r.fallbackTargets(ctx)
	} else {
		r.mu.Lock()
		r.lastTarget = targets
		r.mu.Unlock()
	}
	stats, errs := docker.ReadStats(ctx, root, targets, 0)
	now := r.cfg.Now()
	for i, s := range stats {
		if errs[i] != nil || s == nil {
			continue
		}
		sm := &Sample{Time: now, ContainerID: s.ID, ContainerName: s.Name}
		if m := s.Memory; m != nil {
			sm.MemoryUsage, sm.MemoryWorkingSet, sm.MemoryLimit, sm.OOMKills = m.Usage, m.WorkingSet, m.Limit, m.OOMKills
		}
		if c := s.CPU; c != nil {
			sm.CPUUsageNs, sm.CPUThrottledNs, sm.CPUNrThrottled = c.UsageNs, c.ThrottledNs, c.NrThrottled
		}
		if p := s.Pids; p != nil {
			sm.Pids, sm.PidsLimit = p.Current, p.Limit
		}
		r.w.add(ctx, sm)
		r.mu.Lock()
		r.names[s.ID] = s.Name
		r.mu.Unlock()
		if sm.OOMKills != nil {
			if wc := r.cgroupOf(s.ID, targets[i].PID); wc != nil {
				r.noteOOMCount(ctx, s.ID, s.Name, wc, *sm.OOMKills)
			}
		}
	}
}

// statTargets are the running containers of the engine and of the CRI
// runtime; an error when neither answers.
func (r *recorder) statTargets(ctx context.Context) ([]docker.StatTarget, error) {
	var targets []docker.StatTarget
	var errs []error
	if r.cfg.Engine != nil {
		t, err := docker.StatTargets(ctx, r.cfg.Engine, r.cfg.HostRoot, nil)
		targets, errs = t, append(errs, err)
	}
	if r.cfg.CRI != nil {
		list, err := r.cfg.CRI.List(ctx, cri.ListOptions{})
		for _, c := range list {
			targets = append(targets, docker.StatTarget{ID: c.ID, Name: c.Name, PID: c.PID})
		}
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			return targets, nil // one answered
		}
	}
	return nil, errors.Join(errs...)
}

func (r *recorder) fallbackTargets(ctx context.Context) []docker.StatTarget {
	r.mu.Lock()
	last := r.lastTarget
	r.mu.Unlock()
	if len(last) == 0 {
		return nil
	}
	fs, err := proc.NewFS(r.cfg.HostRoot)
	if err != nil {
		return nil
	}
	pids, err := fs.ContainerPIDs(ctx)
	if err != nil {
		return nil
	}
	var out []docker.StatTarget
	for _, t := range last {
		if pid := pids[t.ID]; pid > 0 {
			t.PID = pid
			out = append(out, t)
		}
	}
	return out
}

// kmsgLoop reads the kernel's log for OOM kills.
func (r *recorder) kmsgLoop(ctx context.Context) {
	rd, err := r.cfg.Kmsg()
	if err != nil {
		r.cfg.logf("journal %s: the kernel's log is not readable (%v): OOM victims are not recorded", r.cfg.Path, err)
		return
	}
	stop := context.AfterFunc(ctx, func() { rd.Close() })
	defer stop()
	var p oomParser
	for {
		s, err := rd.ReadRecord()
		if err != nil {
			if ctx.Err() == nil {
				r.cfg.logf("journal %s: reading the kernel's log: %v", r.cfg.Path, err)
			}
			return
		}
		rec, err := parseKmsgRecord(s)
		if err != nil {
			continue
		}
		if k := p.feed(rec); k != nil {
			r.kernelOOM(ctx, k)
		}
	}
}

// kernelOOM records an OOM kill from the kernel's log, mapped to its
// container by the victim's memory cgroup.
func (r *recorder) kernelOOM(ctx context.Context, k *KernelOOM) {
	at := r.boot.Add(k.Mono)
	now := r.cfg.Now()
	if r.cfg.Retain > 0 && at.Before(now.Add(-r.cfg.Retain)) {
		return
	}
	memcg := unescapeKmsg(k.Memcg)
	id, _ := proc.ContainerOfCgroup(memcg)
	r.mu.Lock()
	name := r.names[id]
	r.mu.Unlock()
	if id != "" && name == "" {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if c, err := r.lookup(lctx, id); err == nil {
			name = c.Name
		}
		cancel()
	}
	attrs := map[string]string{}
	if k.OOMMemcg != "" {
		attrs["oom_memcg"] = unescapeKmsg(k.OOMMemcg)
	}
	if k.Constraint != "" {
		attrs["constraint"] = k.Constraint
	}
	if k.AnonRSSKB != nil {
		attrs["anon_rss_kb"] = strconv.FormatUint(*k.AnonRSSKB, 10)
	}
	row := OOMKill{Time: at, Source: SourceKmsg, ContainerID: id, ContainerName: name, PID: k.PID,
		Comm: unescapeKmsg(k.Comm), Memcg: memcg, Attributes: attrs,
		Dedup: fmt.Sprintf("k:%s:%d", r.bootID, k.Seq)}.Event()
	r.w.add(ctx, row)
	if id != "" && now.Sub(at) < time.Minute {
		r.checkOOMSoon(ctx, id, name)
	}
}
