//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64) && linux

package trace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
)

// DefaultBufferSize is the ring buffer's size when Options.BufferSize is 0:
// about 700 exec events, or 2,800 opens.
const DefaultBufferSize = 1 << 20

// pollInterval bounds how long Run waits for an event before it looks at
// the lost counter and its context again.
const pollInterval = 100 * time.Millisecond

// programs are the BPF programs of each kind and where they attach: a
// tracepoint with BTF ("tp_btf": no tracefs needed) or a classic one
// (group/name under tracefs). Optional ones are skipped when the kernel
// lacks the tracepoint (open(2) is not on every architecture).
var programs = map[Kind][]attachment{
	KindExec:    {{prog: "ctrsh_exec", btf: "sched_process_exec"}},
	KindExit:    {{prog: "ctrsh_exit", btf: "sched_process_exit"}},
	KindOOM:     {{prog: "ctrsh_oom", btf: "mark_victim"}},
	KindConnect: {{prog: "ctrsh_connect", btf: "inet_sock_set_state"}},
	KindOpen: {
		{prog: "ctrsh_openat_in", group: "syscalls", name: "sys_enter_openat"},
		{prog: "ctrsh_openat_out", group: "syscalls", name: "sys_exit_openat"},
		{prog: "ctrsh_open_in", group: "syscalls", name: "sys_enter_open", optional: true},
		{prog: "ctrsh_open_out", group: "syscalls", name: "sys_exit_open", optional: true},
		{prog: "ctrsh_openat2_in", group: "syscalls", name: "sys_enter_openat2", optional: true},
		{prog: "ctrsh_openat2_out", group: "syscalls", name: "sys_exit_openat2", optional: true},
	},
}

type attachment struct {
	prog        string
	btf         string // tp_btf target
	group, name string // classic tracepoint
	optional    bool
}

// Tracer is a loaded, attached set of tracing programs and the ring buffer
// they write to. Close detaches and unloads everything.
type Tracer struct {
	o       Options
	coll    *ebpf.Collection
	links   []link.Link
	rd      *ringbuf.Reader
	lost    *ebpf.Map
	boot    time.Time // the wall-clock time of CLOCK_BOOTTIME 0
	lastRaw uint64    // the lost counter at the last report
	names   map[string]string
	memcgs  map[uint64]string
	v2      bool

	closeOnce sync.Once
	closeErr  error
}

func unavailable(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if err != nil {
		msg += ": " + err.Error()
	}
	return &unavailableError{msg: msg, err: err}
}

// Open loads the programs of o.Kinds, attaches them and returns the Tracer.
// Errors wrapping ErrUnavailable mean this kernel or this process cannot
// trace at all.
func Open(o Options) (*Tracer, error) {
	kinds, err := o.check()
	if err != nil {
		return nil, err
	}
	kernel, err := btf.LoadSpec(o.BTFPath)
	if err != nil {
		return nil, unavailable(err, "tracing needs a kernel with BPF and BTF")
	}
	if kinds[KindOOM] {
		if err := checkMarkVictim(kernel); err != nil {
			return nil, err
		}
	}
	mode, err := cgroup.DetectMode(o.HostRoot)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}

	// Kernels before 5.11 count BPF memory against RLIMIT_MEMLOCK; later
	// ones do not, and this does nothing there.
	// (cilium/ebpf's rlimit package does this too, but probes the kernel in
	// its init, at every start of ctrsh: here only a trace pays.)
	if err := removeMemlock(); err != nil && !errors.Is(err, unix.EPERM) {
		return nil, fmt.Errorf("trace: RLIMIT_MEMLOCK: %w", err)
	}
	spec, err := loadBpf()
	if err != nil {
		return nil, fmt.Errorf("trace: the BPF object: %w", err)
	}
	t := &Tracer{o: o, v2: mode == cgroup.ModeV2, names: map[string]string{}, memcgs: map[uint64]string{}}
	if err := configure(spec, o, t.v2); err != nil {
		return nil, err
	}
	want, err := attachments(kinds, o.Notice)
	if err != nil {
		return nil, err
	}
	keepPrograms(spec, want)
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: kernel},
	})
	if err != nil {
		return nil, loadError(err)
	}
	t.coll = coll
	t.lost = coll.Maps["ctrsh_lost"]
	if err := t.start(want); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// check fills in o's defaults, checks it, and returns the kinds asked for.
func (o *Options) check() (map[Kind]bool, error) {
	if len(o.Kinds) == 0 {
		return nil, errors.New("trace: no kinds to trace")
	}
	if o.HostRoot == "" {
		o.HostRoot = "/"
	}
	if o.BTFPath == "" {
		o.BTFPath = filepath.Join(o.HostRoot, "sys/kernel/btf/vmlinux")
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	page := os.Getpagesize()
	if o.BufferSize < page || o.BufferSize&(o.BufferSize-1) != 0 {
		return nil, fmt.Errorf("trace: buffer size %d: want a power of two, at least %d", o.BufferSize, page)
	}
	kinds := map[Kind]bool{}
	for _, k := range o.Kinds {
		if _, ok := programs[k]; !ok {
			return nil, fmt.Errorf("trace: unknown kind %q", k)
		}
		kinds[k] = true
	}
	return kinds, nil
}

// configure sets the BPF object's variables (the cgroup version, whether
// every container is wanted, the path prefix of opens, when to wake the
// reader) and its ring buffer's size.
func configure(spec *ebpf.CollectionSpec, o Options, v2 bool) error {
	set := func(name string, v any) error {
		vs, ok := spec.Variables[name]
		if !ok {
			return fmt.Errorf("trace: the BPF object has no variable %s", name)
		}
		return vs.Set(v)
	}
	prefix := o.PathPrefix
	if len(prefix) > 63 {
		prefix = prefix[:63]
	}
	var pbuf [64]uint8
	copy(pbuf[:], prefix)
	for _, err := range []error{
		set("cgroup_v2", v2),
		set("want_all", len(o.Containers) == 0),
		set("path_prefix_len", uint32(len(prefix))),
		set("path_prefix", pbuf),
		set("wakeup_bytes", uint64(o.BufferSize/4)),
	} {
		if err != nil {
			return err
		}
	}
	spec.Maps["ctrsh_events"].MaxEntries = uint32(o.BufferSize)
	return nil
}

// attachments are the programs of the kinds asked for, less the optional
// tracepoints this kernel lacks; classic tracepoints need tracefs mounted.
func attachments(kinds map[Kind]bool, notice func(string)) ([]attachment, error) {
	var want []attachment
	for _, k := range Kinds {
		if !kinds[k] {
			continue
		}
		for _, a := range programs[k] {
			if a.group != "" {
				if err := ensureTracefs(notice); err != nil {
					return nil, fmt.Errorf("trace %s: %w", k, err)
				}
				if a.optional && !tracepointExists(a.group, a.name) {
					continue
				}
			}
			want = append(want, a)
		}
	}
	return want, nil
}

// keepPrograms removes from spec the programs not in want, so only those
// are loaded.
func keepPrograms(spec *ebpf.CollectionSpec, want []attachment) {
	keep := map[string]bool{}
	for _, a := range want {
		keep[a.prog] = true
	}
	for name := range spec.Programs {
		if !keep[name] {
			delete(spec.Programs, name)
		}
	}
}

// start fills the container filter, attaches the programs of want, opens
// the ring buffer and reads the boot time; the caller closes t on an error.
func (t *Tracer) start(want []attachment) error {
	for _, id := range t.o.Containers {
		var key [64]uint8
		if len(id) != 64 {
			return fmt.Errorf("trace: container id %q: want 64 hex digits", id)
		}
		copy(key[:], id)
		if err := t.coll.Maps["ctrsh_wanted"].Put(key, uint8(1)); err != nil {
			return fmt.Errorf("trace: container filter: %w", err)
		}
	}
	for _, a := range want {
		l, err := attach(t.coll.Programs[a.prog], a)
		if err != nil {
			return err
		}
		t.links = append(t.links, l)
	}
	var err error
	t.rd, err = ringbuf.NewReader(t.coll.Maps["ctrsh_events"])
	if err != nil {
		return fmt.Errorf("trace: ring buffer: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return fmt.Errorf("trace: clock: %w", err)
	}
	t.boot = time.Now().Add(-time.Duration(ts.Nano()))
	return nil
}

// attach attaches prog where a says: a BTF tracepoint or a classic one.
func attach(prog *ebpf.Program, a attachment) (link.Link, error) {
	var l link.Link
	var err error
	if a.btf != "" {
		l, err = link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
	} else {
		l, err = link.Tracepoint(a.group, a.name, prog, nil)
	}
	if err != nil {
		where := a.btf
		if where == "" {
			where = a.group + ":" + a.name
		}
		return nil, fmt.Errorf("trace: attaching to %s: %w", where, err)
	}
	return l, nil
}

// loadError says why the kernel refused the programs.
func loadError(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		// The errno alone: cilium/ebpf's hint about RLIMIT_MEMLOCK does not
		// apply (Open lifts it where the kernel still counts it).
		e := unix.EPERM
		if errors.Is(err, unix.EACCES) {
			e = unix.EACCES
		}
		return &unavailableError{msg: "tracing needs root (CAP_BPF and CAP_PERFMON): " + e.Error(), err: err}
	case errors.Is(err, ebpf.ErrNotSupported), errors.Is(err, unix.ENOSYS):
		return unavailable(err, "tracing needs a kernel with BPF and BTF")
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("trace: the kernel's verifier refused a program: %+v", ve)
	}
	return fmt.Errorf("trace: loading the BPF programs: %w", err)
}

// checkMarkVictim makes sure oom:mark_victim passes the victim's task
// (Linux 6.8 and later); before, it passed only a pid.
func checkMarkVictim(kernel *btf.Spec) error {
	var td *btf.Typedef
	if err := kernel.TypeByName("btf_trace_mark_victim", &td); err != nil {
		return unavailable(err, "trace oom: this kernel has no oom:mark_victim tracepoint")
	}
	ptr, ok := td.Type.(*btf.Pointer)
	if ok {
		if fp, ok := ptr.Target.(*btf.FuncProto); ok && len(fp.Params) >= 2 {
			if p, ok := fp.Params[1].Type.(*btf.Pointer); ok {
				if s, ok := p.Target.(*btf.Struct); ok && s.Name == "task_struct" {
					return nil
				}
			}
		}
	}
	return unavailable(nil, "trace oom: oom:mark_victim passes the victim's task from Linux 6.8 on; this kernel passes only its pid")
}

// Close detaches every program and frees the maps. It is safe to call more
// than once and from another goroutine than Run's (it ends Run).
func (t *Tracer) Close() error {
	t.closeOnce.Do(func() {
		var errs []error
		for _, l := range t.links {
			errs = append(errs, l.Close())
		}
		t.links = nil
		if t.rd != nil {
			errs = append(errs, t.rd.Close())
		}
		if t.coll != nil {
			t.coll.Close()
		}
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

// Run reads events and calls fn with each, until fn returns false, ctx is
// done, or the Tracer is closed. Every pollInterval it also reads the
// kernel's lost counter and reports an increase as an Event of Kind
// KindLost. Run returns nil when ctx ended it or fn stopped it.
func (t *Tracer) Run(ctx context.Context, fn func(Event) bool) error {
	return t.RunBatches(ctx, func(evs []Event) bool {
		for _, ev := range evs {
			if !fn(ev) {
				return false
			}
		}
		return true
	})
}

// maxBatch bounds the events RunBatches hands over at once.
const maxBatch = 256

// RunBatches is Run handing over the events read in one go (what the
// kernel had queued, up to maxBatch): one hand-over per wakeup, not per
// event. fn must not keep the slice.
func (t *Tracer) RunBatches(ctx context.Context, fn func([]Event) bool) error {
	stop := context.AfterFunc(ctx, func() { t.rd.SetDeadline(time.Now()) })
	defer stop()
	var rec ringbuf.Record
	batch := make([]Event, 0, maxBatch)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		ok := fn(batch)
		batch = batch[:0]
		return ok
	}
	lastPoll := time.Now()
	for {
		if ctx.Err() != nil {
			return nil
		}
		t.rd.SetDeadline(time.Now().Add(pollInterval))
		err := t.rd.ReadInto(&rec)
		switch {
		case err == nil:
			ev, derr := t.decode(rec.RawSample)
			if derr != nil {
				return derr
			}
			if ev.Kind != "" { // else filtered here (the path pattern's rest)
				batch = append(batch, ev)
			}
			if len(batch) < maxBatch && t.rd.AvailableBytes() > 0 {
				continue
			}
			if !flush() {
				return nil
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			if !flush() {
				return nil
			}
		case errors.Is(err, ringbuf.ErrClosed):
			return nil
		default:
			return fmt.Errorf("trace: reading the ring buffer: %w", err)
		}
		if time.Since(lastPoll) >= pollInterval || err != nil {
			lastPoll = time.Now()
			if n := t.lostSince(); n > 0 {
				if !fn([]Event{{Kind: KindLost, Time: time.Now(), Lost: n}}) {
					return nil
				}
			}
		}
	}
}

// lostSince reads the per-CPU lost counters and returns the increase since
// the last call.
func (t *Tracer) lostSince() uint64 {
	var per []uint64
	if err := t.lost.Lookup(uint32(0), &per); err != nil {
		return 0
	}
	var sum uint64
	for _, n := range per {
		sum += n
	}
	d := sum - t.lastRaw
	t.lastRaw = sum
	return d
}

// tracepointExists reports whether tracefs lists the classic tracepoint.
func tracepointExists(group, name string) bool {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(dir, "events", group, name, "id")); err == nil {
			return true
		}
	}
	return false
}

var tracefsMu sync.Mutex

// ensureTracefs mounts tracefs on /sys/kernel/tracing when neither it nor
// debugfs's tracing directory is mounted (classic tracepoints are found
// there), and says so through notice.
func ensureTracefs(notice func(string)) error {
	tracefsMu.Lock()
	defer tracefsMu.Unlock()
	for _, p := range []struct {
		dir   string
		magic int64
	}{
		{"/sys/kernel/tracing", unix.TRACEFS_MAGIC},
		{"/sys/kernel/debug/tracing", unix.TRACEFS_MAGIC},
		{"/sys/kernel/debug/tracing", unix.DEBUGFS_MAGIC},
	} {
		var st unix.Statfs_t
		if unix.Statfs(p.dir, &st) == nil && int64(st.Type) == p.magic {
			return nil
		}
	}
	if err := unix.Mount("nodev", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		if errors.Is(err, syscall.EPERM) {
			return unavailable(err, "tracefs is not mounted, and mounting it on /sys/kernel/tracing needs root")
		}
		return fmt.Errorf("tracefs is not mounted, and mounting it on /sys/kernel/tracing failed: %w", err)
	}
	if notice != nil {
		notice("mounted tracefs on /sys/kernel/tracing (the syscall tracepoints are found there)")
	}
	return nil
}

// removeMemlock lifts RLIMIT_MEMLOCK, which kernels before 5.11 charge BPF
// maps and programs to.
func removeMemlock() error {
	return unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
}
