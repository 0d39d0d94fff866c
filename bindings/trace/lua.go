package trace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "trace: what the processes of containers do, live, from the kernel (eBPF): exec, exit, oom, connect, open"

const common = `container=ref|{refs}, duration=, ["until"]=, buffer=`

// Containers is what trace asks of the container runtimes: the container a
// reference names (container="web"), and a lookup by id that may run off
// L's goroutine (the reader names the containers it meets). bindings.New
// gives it the containers module's Resolver.
type Containers interface {
	Lookup(L *lua.LState, ref string) (*docker.Container, error)
	LookupFunc(L *lua.LState) func(ctx context.Context, ref string) (*docker.Container, error)
}

// Module is the trace module, whose container references are found
// through its Containers.
type Module struct {
	containers Containers
}

// New returns the trace module, which finds containers through c.
func New(c Containers) *Module { return &Module{containers: c} }

// Loader is the trace module's loader for L.PreloadModule.
func (m *Module) Loader(L *lua.LState) int {
	L.Push(luax.NewModule(L, "trace", doc, []luax.Func{
		{Name: "exec", Doc: `trace.exec{` + common + `} [, fn] --> iterator of {kind="exec", time, container, container_id, pid, pid_inside, ppid, uid, comm, filename, argv}, close | nil, err  (every container when no container; with fn: calls fn(ev) until it returns false, and returns true)`, Fn: m.kindFunc("exec", KindExec)},
		{Name: "exit", Doc: `trace.exit{` + common + `} [, fn] --> iterator of {kind="exit", ..., code} when a process exited, {..., signal, signal_name, core_dumped} when a signal killed it`, Fn: m.kindFunc("exit", KindExit)},
		{Name: "oom", Doc: `trace.oom{` + common + `} [, fn] --> iterator of {kind="oom", time, container, pid, pid_inside, comm, uid, memcg, oom_score_adj, by_pid, by_comm}: the OOM killer's victims (Linux 6.8+)`, Fn: m.kindFunc("oom", KindOOM)},
		{Name: "connect", Doc: `trace.connect{` + common + `} [, fn] --> iterator of {kind="connect", ..., family, src, src_port, dst, dst_port, result, errno, latency}: TCP connection attempts, when they resolve`, Fn: m.kindFunc("connect", KindConnect)},
		{Name: "open", Doc: `trace.open{path=pattern, ` + common + `} [, fn] --> iterator of {kind="open", ..., path, flags, fd, errno}: files opened (path: a Lua pattern; a literal prefix after ^ is applied in the kernel)`, Fn: m.kindFunc("open", KindOpen)},
		{Name: "stream", Doc: `trace.stream(kinds, {path=, ` + common + `} [, fn]) --> one iterator of several kinds (kinds: "exec" or {"exec", "exit", ...})`, Fn: m.luaStream},
	}))
	return 1
}

// OfContainer is c:trace(kind|kinds, opts [, fn]), with the kinds at
// argument n: what the docker module's Container is given as its trace.
func (m *Module) OfContainer(L *lua.LState, c *docker.Container, n int) int {
	kinds := checkKinds(L, n)
	return m.open(L, "c:trace", kinds, n+1, []string{c.ID}, map[string]string{c.ID: c.Name})
}

// QueueSize is the number of batches of events waiting for Lua; when Lua
// falls behind, the kernel's ring buffer fills and counts what it loses.
var QueueSize = 16

func (m *Module) kindFunc(name string, k Kind) lua.LGFunction {
	return func(L *lua.LState) int {
		return m.open(L, "trace."+name, []Kind{k}, 1, nil, nil)
	}
}

func (m *Module) luaStream(L *lua.LState) int {
	return m.open(L, "trace.stream", checkKinds(L, 1), 2, nil, nil)
}

// checkKinds reads a kind or an array of kinds at argument n.
func checkKinds(L *lua.LState, n int) []Kind {
	list, err := luax.StringList(L.Get(n))
	if err != nil || len(list) == 0 {
		L.ArgError(n, "kind or array of kinds expected (exec, exit, oom, connect, open)")
	}
	var out []Kind
	for _, s := range list {
		k := Kind(s)
		if _, ok := kindIndex(k); !ok {
			L.ArgError(n, fmt.Sprintf("unknown kind %q (known: exec, exit, oom, connect, open)", s))
		}
		out = append(out, k)
	}
	return out
}

func kindIndex(k Kind) (int, bool) {
	for i, kk := range Kinds {
		if kk == k {
			return i, true
		}
	}
	return 0, false
}

// open reads the options at argument n (and a callback at n+1), opens the
// tracer and pushes the stream, or runs the callback loop. ids, when set,
// are the containers already chosen (c:trace).
func (m *Module) open(L *lua.LState, fname string, kinds []Kind, n int, ids []string, names map[string]string) int {
	lo := luax.CheckOptions(L, n, allowedOptions(kinds, ids == nil)...)
	var fn *lua.LFunction
	if L.GetTop() > n && L.Get(n+1) != lua.LNil {
		fn = L.CheckFunction(n + 1)
	}
	refs := lo.Strings("container")
	dur, hasDur := lo.Duration("duration")
	until, hasUntil := lo.Time("until")
	o := Options{Kinds: kinds, HostRoot: luax.HostRoot(L), BufferSize: lo.Int("buffer", 0)}
	if pat := lo.String("path", ""); pat != "" {
		if _, err := pm.Find(pat, []byte(""), 0, 1); err != nil {
			L.ArgError(n, fmt.Sprintf("option \"path\": %v", err))
		}
		o.PathPrefix = LiteralPrefix(pat)
		o.PathMatch = func(p string) bool {
			m, err := pm.Find(pat, []byte(p), 0, 1)
			return err == nil && len(m) > 0
		}
	}
	if names == nil {
		names = map[string]string{}
	}
	for _, ref := range refs {
		c, err := m.containers.Lookup(L, ref)
		if err != nil {
			return luax.Fail(L, err)
		}
		ids = append(ids, c.ID)
		names[c.ID] = c.Name
	}
	if lo.Has("container") && len(ids) == 0 {
		return luax.Failf(L, "%s: container={}: no container given", fname)
	}
	o.Containers = ids
	o.Names = namer(m.containers.LookupFunc(L), names)
	env := luax.GetEnv(L)
	o.Notice = func(msg string) { fmt.Fprintf(env.Stderr, "ctrsh: %s\n", msg) }

	tr, err := Open(o)
	if err != nil {
		return luax.Fail(L, err)
	}
	// The duration counts from when the programs are attached.
	var deadline time.Time
	if hasDur {
		deadline = time.Now().Add(dur)
	}
	if hasUntil && (deadline.IsZero() || until.Before(deadline)) {
		deadline = until
	}
	next := stream(L, tr, deadline)
	if fn == nil {
		L.Push(L.NewFunction(func(L *lua.LState) int {
			ev, ok, err := next.event(L)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(Table(L, ev))
			return 1
		}))
		L.Push(next.s.CloseFunc(L))
		return 2
	}
	return next.each(L, fn)
}

// allowedOptions are the options of a trace call of kinds: container only
// when the call does not name the containers itself, path only for opens.
func allowedOptions(kinds []Kind, container bool) []string {
	allowed := []string{"duration", "until", "buffer"}
	if container {
		allowed = append(allowed, "container")
	}
	if slices.Contains(kinds, KindOpen) {
		allowed = append(allowed, "path")
	}
	return allowed
}

// events is a tracer's events as the Lua goroutine reads them: a stream of
// batches (what one read of the ring buffer gave: one hand-over between
// goroutines per batch, not per event) and the rest of the last batch.
type events struct {
	s       *luax.Stream[[]Event]
	pending []Event
}

// stream runs tr in a stream's producer until deadline (if set), the end
// of the statement, or the stream's close.
func stream(L *lua.LState, tr *Tracer, deadline time.Time) *events {
	s := luax.NewStream(L, QueueSize, func(sink *luax.Sink[[]Event]) error {
		defer tr.Close()
		ctx := sink.Context()
		if !deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		return tr.RunBatches(ctx, func(evs []Event) bool { return sink.Send(slices.Clone(evs)) })
	}, nil)
	return &events{s: s}
}

// event returns the next event; ok is false at the end of the stream.
func (e *events) event(L *lua.LState) (Event, bool, error) {
	for len(e.pending) == 0 {
		batch, ok, err := e.s.Next(L)
		if err != nil || !ok {
			return Event{}, false, err
		}
		e.pending = batch
	}
	ev := e.pending[0]
	e.pending = e.pending[1:]
	return ev, true, nil
}

// each calls fn with each event's table until the end of the stream or fn
// returns false, closes the stream, and pushes true (or nil, err).
func (e *events) each(L *lua.LState, fn *lua.LFunction) int {
	defer e.s.Close()
	for {
		ev, ok, err := e.event(L)
		if err != nil {
			return luax.Fail(L, err)
		}
		if !ok {
			break
		}
		L.Push(fn)
		L.Push(Table(L, ev))
		L.Call(1, 1)
		ret := L.Get(-1)
		L.Pop(1)
		if ret == lua.LFalse {
			break
		}
	}
	L.Push(lua.LTrue)
	return 1
}

// namer returns the name lookup the producer goroutine uses: the names
// known at open, then look, the containers' runtimes (bounded, once per
// container).
func namer(look func(ctx context.Context, ref string) (*docker.Container, error), known map[string]string) func(id string) string {
	return func(id string) string {
		if n, ok := known[id]; ok {
			return n
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := look(ctx, id)
		if err != nil {
			return ""
		}
		return c.Name
	}
}

// LiteralPrefix is the literal text a Lua pattern anchored with ^ must
// start with ("^/etc/" gives "/etc/"; "^/etc/pass?" gives "/etc/pas"): what
// the kernel can check. Unanchored patterns give "".
func LiteralPrefix(pat string) string {
	if !strings.HasPrefix(pat, "^") {
		return ""
	}
	var b strings.Builder
	for i := 1; i < len(pat); i++ {
		c := pat[i]
		next := byte(0)
		if i+1 < len(pat) {
			next = pat[i+1]
		}
		lit := c
		step := 0
		switch c {
		case '%':
			if i+1 >= len(pat) {
				return b.String()
			}
			if x := pat[i+1]; (x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || (x >= '0' && x <= '9') {
				return b.String() // a class (%d, %a) or a back reference
			}
			lit, step = pat[i+1], 1
			if i+2 < len(pat) {
				next = pat[i+2]
			} else {
				next = 0
			}
		case '.', '[', '(', ')', '$', '*', '+', '-', '?', '^':
			return b.String()
		}
		switch next {
		case '*', '?', '-':
			return b.String() // this character is optional
		}
		b.WriteByte(lit)
		if next == '+' {
			return b.String() // one at least, maybe more
		}
		i += step
	}
	return b.String()
}

// signalNames are the signals' names without SIG, as kill -l prints them.
var signalNames = map[int]string{1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE",
	9: "KILL", 10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 16: "STKFLT", 17: "CHLD",
	18: "CONT", 19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU", 25: "XFSZ", 26: "VTALRM",
	27: "PROF", 28: "WINCH", 29: "IO", 30: "PWR", 31: "SYS"}

// Table is the Lua form of an event.
func Table(L *lua.LState, ev Event) lua.LValue {
	t := L.CreateTable(0, 14)
	set := func(k string, v lua.LValue) { t.RawSetString(k, v) }
	str := func(k, v string) {
		if v != "" {
			set(k, lua.LString(v))
		}
	}
	set("kind", lua.LString(ev.Kind))
	set("time", luax.Seconds(ev.Time))
	if ev.Kind == KindLost {
		set("lost", lua.LNumber(ev.Lost))
		return t
	}
	str("container", ev.Container)
	str("container_id", ev.ContainerID)
	set("pid", lua.LNumber(ev.PID))
	set("pid_inside", lua.LNumber(ev.PIDInside))
	set("ppid", lua.LNumber(ev.PPID))
	set("tid", lua.LNumber(ev.TID))
	set("uid", lua.LNumber(ev.UID))
	str("comm", ev.Comm)
	switch ev.Kind {
	case KindExec:
		str("filename", ev.Filename)
		argv := L.CreateTable(len(ev.Argv), 0)
		for _, a := range ev.Argv {
			argv.Append(lua.LString(a))
		}
		set("argv", argv)
		if ev.ArgvTruncated {
			set("argv_truncated", lua.LTrue)
		}
	case KindExit:
		if ev.Code != nil {
			set("code", lua.LNumber(*ev.Code))
		} else {
			set("signal", lua.LNumber(ev.Signal))
			if n, ok := signalNames[ev.Signal]; ok {
				set("signal_name", lua.LString(n))
			}
			set("core_dumped", lua.LBool(ev.CoreDumped))
		}
	case KindOOM:
		str("memcg", ev.Memcg)
		set("cgroup_id", lua.LNumber(ev.CgroupID))
		set("oom_score_adj", lua.LNumber(ev.OOMScoreAdj))
		set("by_pid", lua.LNumber(ev.ByPID))
		str("by_comm", ev.ByComm)
	case KindConnect:
		str("family", ev.Family)
		if ev.Src.IsValid() {
			set("src", lua.LString(ev.Src.String()))
		}
		set("src_port", lua.LNumber(ev.SrcPort))
		if ev.Dst.IsValid() {
			set("dst", lua.LString(ev.Dst.String()))
		}
		set("dst_port", lua.LNumber(ev.DstPort))
		str("result", ev.Result)
		str("errno", ev.Errno)
		set("latency", lua.LNumber(ev.Latency.Seconds()))
	case KindOpen:
		str("path", ev.Path)
		set("flags", lua.LNumber(ev.Flags))
		if ev.FD >= 0 {
			set("fd", lua.LNumber(ev.FD))
		}
		str("errno", ev.Errno)
	}
	return t
}
