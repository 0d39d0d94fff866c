package proc

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Containers is what proc asks of the container runtimes: the container a
// process is in (p:container()) and the id a name gives
// (proc.list{container="web"}). bindings.New gives it the containers
// module's Resolver.
type Containers interface {
	// PushContainer pushes the Container whose id is id, or nil and a
	// message, and returns the count of values pushed.
	PushContainer(L *lua.LState, id string) int
	// ContainerID turns a container name or id prefix into the full id.
	ContainerID(L *lua.LState, ref string) (id string, err error)
}

// Module is the proc module: its functions and its Process type, whose
// p:container() asks the Containers it was given.
type Module struct {
	containers Containers
	process    *luax.Type
}

// New returns the proc module. With nil Containers, p:container() and
// proc.list{container=NAME} fail saying why (ids still select).
func New(c Containers) *Module {
	m := &Module{containers: c}
	m.process = &luax.Type{
		Name: processTypeName,
		Doc:  "Process: a host process (p.pid, p.nspid, p.container_id, p:environ(), ...)",
		Fields: []string{"pid", "ppid", "comm", "cmdline", "exe", "state", "uid", "gid", "threads", "rss",
			"start_time", "cpu_seconds", "nspid", "pid_inside", "container_id", "runtime"},
		Field:  processField,
		String: processString,
		Methods: []luax.Func{
			{Name: "environ", Doc: "p:environ() --> {KEY=value, ...} | nil, err", Fn: luaEnviron},
			{Name: "ns", Doc: "p:ns() --> {mnt=inode, net=, pid=, ipc=, uts=, user=, cgroup=, time=} | nil, err", Fn: luaNS},
			{Name: "cgroup", Doc: "p:cgroup() --> Cgroup | nil, err", Fn: luaCgroup},
			{Name: "children", Doc: "p:children() --> array of Process", Fn: m.luaChildren},
			{Name: "status", Doc: "p:status() --> table of /proc/PID/status (kB values in bytes)", Fn: luaStatus},
			{Name: "container", Doc: "p:container() --> Container | nil, err (needs the docker module)", Fn: m.luaContainer},
		},
	}
	return m
}

const doc = "proc: host processes from /proc, with their PIDs inside and their containers"

// Loader is the proc module's loader for L.PreloadModule.
func (m *Module) Loader(L *lua.LState) int {
	m.process.Register(L)
	L.Push(luax.NewModule(L, "proc", doc, []luax.Func{
		{Name: "get", Doc: "proc.get(pid) --> Process | nil, err", Fn: m.luaGet},
		{Name: "self", Doc: "proc.self() --> Process (ctrsh itself)", Fn: m.luaSelf},
		{Name: "list", Doc: "proc.list{container=ref|true|false, comm=pattern} --> array of Process (comm: a Lua pattern)", Fn: m.luaList},
	}))
	return 1
}

// luaProc is the value of a Process userdata.
type luaProc struct {
	fs *FS
	p  *Process
}

const processTypeName = "ctrsh.Process"

func processField(L *lua.LState, v any, key string) lua.LValue {
	lp := v.(*luaProc)
	p := lp.p
	switch key {
	case "pid":
		return lua.LNumber(p.PID)
	case "ppid":
		return lua.LNumber(p.PPID)
	case "comm":
		return lua.LString(p.Comm)
	case "cmdline":
		return luax.ToLua(L, p.Cmdline)
	case "exe":
		if exe := lp.fs.Exe(p.PID); exe != "" {
			return lua.LString(exe)
		}
		return lua.LNil
	case "state":
		return lua.LString(p.State)
	case "uid":
		return lua.LNumber(p.UID)
	case "gid":
		return lua.LNumber(p.GID)
	case "threads":
		return lua.LNumber(p.Threads)
	case "rss":
		return lua.LNumber(p.RSS)
	case "start_time":
		return lua.LNumber(p.StartTime)
	case "cpu_seconds":
		return lua.LNumber(p.CPUSeconds)
	case "nspid":
		t := L.CreateTable(len(p.NSpid), 0)
		for _, n := range p.NSpid {
			t.Append(lua.LNumber(n))
		}
		return t
	case "pid_inside":
		return lua.LNumber(p.PIDInside())
	case "container_id":
		return optString(p.ContainerID)
	case "runtime":
		return optString(p.Runtime)
	}
	return lua.LNil
}

func optString(s string) lua.LValue {
	if s == "" {
		return lua.LNil
	}
	return lua.LString(s)
}

func processString(v any) string {
	p := v.(*luaProc).p
	s := fmt.Sprintf("<process %d %s", p.PID, p.Comm)
	if p.ContainerID != "" {
		s += fmt.Sprintf(" %s %.12s pid %d inside", p.Runtime, p.ContainerID, p.PIDInside())
	}
	return s + ">"
}

func checkProc(L *lua.LState) *luaProc {
	return luax.CheckType(L, 1, processTypeName).(*luaProc)
}

// fsOf returns the FS of L's root, raising when /proc cannot be read at all.
func fsOf(L *lua.LState) (*FS, error) {
	return NewFS(luax.HostRoot(L))
}

// checkPID reads a positive integer PID at argument n.
func checkPID(L *lua.LState, n int) int {
	v := L.CheckNumber(n)
	if v != lua.LNumber(int(v)) {
		L.ArgError(n, "pid must be an integer")
	}
	if v <= 0 {
		L.ArgError(n, "pid must be positive")
	}
	return int(v)
}

func (m *Module) luaGet(L *lua.LState) int {
	pid := checkPID(L, 1)
	f, err := fsOf(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	return m.pushPID(L, f, pid)
}

// pushPID reads process pid and pushes it, or nil and the message.
func (m *Module) pushPID(L *lua.LState, f *FS, pid int) int {
	p, err := f.Get(pid)
	if err != nil {
		return luax.Fail(L, err)
	}
	m.process.Push(L, &luaProc{fs: f, p: p})
	return 1
}

func (m *Module) luaSelf(L *lua.LState) int {
	f, err := fsOf(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	pid, err := f.Self()
	if err != nil {
		return luax.Fail(L, err)
	}
	return m.pushPID(L, f, pid)
}

func (m *Module) luaList(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "container", "comm")
	filter := Filter{Status: true, Cmdline: true, Cgroup: true}
	hostOnly := false
	var ref string
	switch v := o.Get("container").(type) {
	case *lua.LNilType:
	case lua.LBool:
		filter.InContainer = bool(v)
		hostOnly = !bool(v)
	case lua.LString:
		ref = string(v)
		// An id or id prefix is matched against /proc directly, with no
		// engine round-trip (and with the engine down); names go to docker.
		switch {
		case isHex(ref):
			filter.ContainerID = ref
		case m.containers != nil:
			id, err := m.containers.ContainerID(L, ref)
			if err != nil {
				return luax.Fail(L, err)
			}
			filter.ContainerID = id
		default:
			return luax.Failf(L, "container %q: container names need the docker module (give an id)", ref)
		}
	default:
		L.ArgError(1, fmt.Sprintf("option %q: string or boolean expected, got %s", "container", v.Type()))
	}
	if pat := o.String("comm", ""); pat != "" {
		if _, err := pm.Find(pat, []byte(""), 0, 1); err != nil {
			L.ArgError(1, fmt.Sprintf("option %q: %v", "comm", err))
		}
		filter.Comm = func(comm string) bool {
			m, err := pm.Find(pat, []byte(comm), 0, 1)
			return err == nil && len(m) > 0
		}
	}
	f, err := fsOf(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	procs, err := f.Table(luax.Ctx(L), filter)
	if err != nil {
		return luax.Fail(L, err)
	}
	if ref != "" {
		ids := map[string]bool{}
		for _, p := range procs {
			ids[p.ContainerID] = true
		}
		if len(ids) > 1 {
			return luax.Failf(L, "container %q: the prefix names %d containers", ref, len(ids))
		}
	}
	t := L.CreateTable(len(procs), 0)
	for _, p := range procs {
		if hostOnly && p.ContainerID != "" {
			continue
		}
		t.Append(m.process.New(L, &luaProc{fs: f, p: p}))
	}
	L.Push(t)
	return 1
}

func isHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func luaEnviron(L *lua.LState) int {
	lp := checkProc(L)
	env, err := lp.fs.Environ(lp.p.PID)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.RawSetString(k, lua.LString(v))
	}
	L.Push(t)
	return 1
}

func luaNS(L *lua.LState) int {
	lp := checkProc(L)
	ns, err := lp.fs.Namespaces(lp.p.PID)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(0, len(ns))
	for k, v := range ns {
		t.RawSetString(k, lua.LNumber(v))
	}
	L.Push(t)
	return 1
}

// luaCgroup calls the cgroup module's of(pid), through Lua: proc does not
// import cgroup (DESIGN.md keeps the module's Go APIs a DAG).
func luaCgroup(L *lua.LState) int {
	lp := checkProc(L)
	mod, ok := requireModule(L, "cgroup")
	if !ok {
		return luax.Failf(L, "process %d: the cgroup module is not loaded", lp.p.PID)
	}
	top := L.GetTop()
	L.Push(mod.RawGetString("of"))
	L.Push(lua.LNumber(lp.p.PID))
	L.Call(1, lua.MultRet)
	return L.GetTop() - top
}

func requireModule(L *lua.LState, name string) (*lua.LTable, bool) {
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		if t, ok := loaded.RawGetString(name).(*lua.LTable); ok {
			return t, true
		}
	}
	if err := luax.CallByParam(L, lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(name)); err != nil {
		return nil, false
	}
	t, ok := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	return t, ok
}

func (m *Module) luaChildren(L *lua.LState) int {
	lp := checkProc(L)
	procs, err := lp.fs.Table(luax.Ctx(L), Filter{PPID: lp.p.PID, Status: true, Cmdline: true, Cgroup: true})
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(len(procs), 0)
	for _, p := range procs {
		t.Append(m.process.New(L, &luaProc{fs: lp.fs, p: p}))
	}
	L.Push(t)
	return 1
}

func luaStatus(L *lua.LState) int {
	lp := checkProc(L)
	t := L.CreateTable(0, len(lp.p.Status))
	for _, kv := range lp.p.Status {
		t.RawSetString(kv[0], luax.ToLua(L, statusValue(kv[1])))
	}
	L.Push(t)
	return 1
}

func (m *Module) luaContainer(L *lua.LState) int {
	lp := checkProc(L)
	if lp.p.ContainerID == "" {
		return luax.Failf(L, "process %d: not in a container", lp.p.PID)
	}
	if m.containers == nil {
		return luax.Failf(L, "process %d: container %.12s: the docker module is not loaded", lp.p.PID, lp.p.ContainerID)
	}
	return m.containers.PushContainer(L, lp.p.ContainerID)
}

// TopTable builds the Lua array of c:top() from rows. The rows' tables,
// most of its time and memory, are built on up to GOMAXPROCS goroutines:
// L.CreateTable only allocates (it reads nothing of L), and a table is
// only handed to L, after wg.Wait, once complete.
func TopTable(L *lua.LState, rows []TopRow) *lua.LTable {
	tables := make([]*lua.LTable, len(rows))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(rows)/256))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(rows)/workers, (w+1)*len(rows)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				tables[i] = topRowTable(L.CreateTable(0, 11), &rows[i])
			}
		})
	}
	wg.Wait()
	t := L.CreateTable(len(rows), 0)
	for _, row := range tables {
		t.Append(row)
	}
	return t
}

// topRowTable fills row, an empty table, with r.
func topRowTable(row *lua.LTable, r *TopRow) *lua.LTable {
	row.RawSetString("pid", lua.LNumber(r.PID))
	row.RawSetString("pid_inside", lua.LNumber(r.PIDInside))
	row.RawSetString("ppid", lua.LNumber(r.PPID))
	row.RawSetString("ppid_inside", lua.LNumber(r.PPIDInside))
	row.RawSetString("uid", lua.LNumber(r.UID))
	row.RawSetString("user", optString(r.User))
	row.RawSetString("comm", lua.LString(r.Comm))
	row.RawSetString("cmd", lua.LString(r.Cmd))
	row.RawSetString("state", lua.LString(r.State))
	row.RawSetString("rss", lua.LNumber(r.RSS))
	row.RawSetString("cpu_seconds", lua.LNumber(r.CPUSeconds))
	return row
}
