package cgroup

import (
	"context"
	"errors"
	"fmt"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "cgroup: cgroups v1, v2 and hybrid: memory, cpu, pids, io, OOM kills"

var funcs = []luax.Func{
	{Name: "mode", Doc: `cgroup.mode() --> "v1" | "v2" | "hybrid" | nil, err`, Fn: luaMode},
	{Name: "version", Doc: "cgroup.version() --> 1 | 2 (the version whose controllers ctrsh reads; 1 on hybrid hosts) | nil, err", Fn: luaVersion},
	{Name: "of", Doc: "cgroup.of(pid) --> Cgroup | nil, err", Fn: luaOf},
	{Name: "open", Doc: `cgroup.open(path) --> Cgroup | nil, err  (path: "/docker/<id>" in the hierarchy, or under /sys/fs/cgroup)`, Fn: luaOpen},
}

// Loader is the cgroup module's loader for L.PreloadModule.
func Loader(L *lua.LState) int {
	cgroupType.Register(L)
	L.Push(luax.NewModule(L, "cgroup", doc, funcs))
	return 1
}

const cgroupTypeName = "ctrsh.Cgroup"

var cgroupType = &luax.Type{
	Name:   cgroupTypeName,
	Doc:    "Cgroup: a cgroup (cg.path, cg.version, cg:memory(), cg:cpu(), cg:pids(), cg:io(), cg:procs(), cg:oom_kills(), cg:watch_oom(fn))",
	Fields: []string{"path", "version"},
	Field: func(L *lua.LState, v any, key string) lua.LValue {
		c := v.(*Cgroup)
		switch key {
		case "path":
			return lua.LString(c.Path)
		case "version":
			return lua.LNumber(c.Version)
		}
		return lua.LNil
	},
	String: func(v any) string {
		c := v.(*Cgroup)
		return fmt.Sprintf("<cgroup v%d %s>", c.Version, c.Path)
	},
	Methods: []luax.Func{
		{Name: "memory", Doc: "cg:memory() --> {usage, limit, max_usage, working_set, cache, rss, swap, failcnt, oom_kills, unlimited, stat, events} | nil, err", Fn: luaMemory},
		{Name: "cpu", Doc: "cg:cpu() --> {usage_ns, user_ns, system_ns, throttled_ns, nr_throttled, nr_periods, quota_cores, shares, weight, stat} | nil, err", Fn: luaCPU},
		{Name: "pids", Doc: "cg:pids() --> {current, limit, unlimited} | nil, err", Fn: luaPids},
		{Name: "io", Doc: "cg:io() --> {read_bytes, write_bytes, read_ops, write_ops} | nil, err", Fn: luaIO},
		{Name: "procs", Doc: "cg:procs() --> array of PIDs | nil, err", Fn: luaProcs},
		{Name: "oom_kills", Doc: "cg:oom_kills() --> count | nil (not counted by this kernel) | nil, err", Fn: luaOOMKills},
		{Name: "watch_oom", Doc: "cg:watch_oom(fn, {timeout=}) --> true | nil, err  (calls fn{time=, oom_kills=, new=} on each OOM kill; fn returning false stops)", Fn: luaWatchOOM},
	},
}

// Push pushes c as a Cgroup userdata.
func Push(L *lua.LState, c *Cgroup) { cgroupType.Push(L, c) }

func check(L *lua.LState) *Cgroup { return luax.CheckType(L, 1, cgroupTypeName).(*Cgroup) }

func luaMode(L *lua.LState) int {
	m, err := DetectMode(luax.HostRoot(L))
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(lua.LString(m))
	return 1
}

func luaVersion(L *lua.LState) int {
	m, err := DetectMode(luax.HostRoot(L))
	if err != nil {
		return luax.Fail(L, err)
	}
	if m == ModeV2 {
		L.Push(lua.LNumber(2))
	} else {
		L.Push(lua.LNumber(1))
	}
	return 1
}

func luaOf(L *lua.LState) int {
	v := L.CheckNumber(1)
	if v != lua.LNumber(int(v)) || v <= 0 {
		L.ArgError(1, "pid must be a positive integer")
	}
	c, err := ForPID(luax.HostRoot(L), int(v))
	if err != nil {
		return luax.Fail(L, err)
	}
	Push(L, c)
	return 1
}

func luaOpen(L *lua.LState) int {
	path := L.CheckString(1)
	if path == "" {
		L.ArgError(1, "empty path")
	}
	c, err := Open(luax.HostRoot(L), path)
	if err != nil {
		return luax.Fail(L, err)
	}
	Push(L, c)
	return 1
}

// table builds a Lua table from name/value pairs, leaving out nil pointers.
type table struct {
	L *lua.LState
	t *lua.LTable
}

func newTable(L *lua.LState) table { return table{L, L.CreateTable(0, 12)} }

func (t table) u(name string, v *uint64) {
	if v != nil {
		t.t.RawSetString(name, lua.LNumber(*v))
	}
}

func (t table) f(name string, v *float64) {
	if v != nil {
		t.t.RawSetString(name, lua.LNumber(*v))
	}
}

func (t table) kv(name string, m map[string]uint64) {
	if m == nil {
		return
	}
	s := t.L.CreateTable(0, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.RawSetString(k, lua.LNumber(m[k]))
	}
	t.t.RawSetString(name, s)
}

// MemoryTable is the Lua form of m (c:stats().memory uses it too).
func MemoryTable(L *lua.LState, m *Memory) *lua.LTable {
	t := newTable(L)
	t.u("usage", m.Usage)
	t.u("limit", m.Limit)
	t.u("max_usage", m.MaxUsage)
	t.u("working_set", m.WorkingSet)
	t.u("cache", m.Cache)
	t.u("rss", m.RSS)
	t.u("swap", m.Swap)
	t.u("failcnt", m.Failcnt)
	t.u("oom_kills", m.OOMKills)
	if m.Unlimited {
		t.t.RawSetString("unlimited", lua.LTrue)
	}
	t.kv("stat", m.Stat)
	t.kv("events", m.Events)
	return t.t
}

// CPUTable is the Lua form of u.
func CPUTable(L *lua.LState, u *CPU) *lua.LTable {
	t := newTable(L)
	t.u("usage_ns", u.UsageNs)
	t.u("user_ns", u.UserNs)
	t.u("system_ns", u.SystemNs)
	t.u("throttled_ns", u.ThrottledNs)
	t.u("nr_throttled", u.NrThrottled)
	t.u("nr_periods", u.NrPeriods)
	t.f("quota_cores", u.QuotaCores)
	t.u("shares", u.Shares)
	t.u("weight", u.Weight)
	t.kv("stat", u.Stat)
	return t.t
}

// PidsTable is the Lua form of p.
func PidsTable(L *lua.LState, p *Pids) *lua.LTable {
	t := newTable(L)
	t.u("current", p.Current)
	t.u("limit", p.Limit)
	if p.Unlimited {
		t.t.RawSetString("unlimited", lua.LTrue)
	}
	return t.t
}

// IOTable is the Lua form of io.
func IOTable(L *lua.LState, io *IO) *lua.LTable {
	t := newTable(L)
	t.u("read_bytes", io.ReadBytes)
	t.u("write_bytes", io.WriteBytes)
	t.u("read_ops", io.ReadOps)
	t.u("write_ops", io.WriteOps)
	return t.t
}

func luaMemory(L *lua.LState) int {
	m, err := check(L).Memory()
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(MemoryTable(L, m))
	return 1
}

func luaCPU(L *lua.LState) int {
	u, err := check(L).CPU()
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(CPUTable(L, u))
	return 1
}

func luaPids(L *lua.LState) int {
	p, err := check(L).Pids()
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(PidsTable(L, p))
	return 1
}

func luaIO(L *lua.LState) int {
	io, err := check(L).IO()
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(IOTable(L, io))
	return 1
}

func luaProcs(L *lua.LState) int {
	pids, err := check(L).Procs()
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(len(pids), 0)
	for _, p := range pids {
		t.Append(lua.LNumber(p))
	}
	L.Push(t)
	return 1
}

func luaOOMKills(L *lua.LState) int {
	n, err := check(L).OOMKills()
	if err != nil {
		return luax.Fail(L, err)
	}
	if n == nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(*n))
	return 1
}

func luaWatchOOM(L *lua.LState) int {
	c := check(L)
	fn := L.CheckFunction(2)
	o := luax.CheckOptions(L, 3, "timeout")
	luax.Flush(L)
	parent := luax.Ctx(L)
	ctx := parent
	if d, ok := o.Duration("timeout"); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, d)
		defer cancel()
	}
	err := c.WatchOOM(ctx, func(ev OOMEvent) bool {
		t := L.CreateTable(0, 3)
		t.RawSetString("time", luax.Seconds(ev.Time))
		if ev.OOMKills != nil {
			t.RawSetString("oom_kills", lua.LNumber(*ev.OOMKills))
			t.RawSetString("new", lua.LNumber(ev.New))
		}
		L.Push(fn)
		L.Push(t)
		L.Call(1, 1)
		ret := L.Get(-1)
		L.Pop(1)
		return ret != lua.LFalse
	})
	switch {
	case err == nil:
	case parent.Err() != nil:
		luax.CheckCancel(L) // Ctrl-C or --timeout: stop the statement
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		// the timeout option: a normal end
	default:
		return luax.Fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}
