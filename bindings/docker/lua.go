package docker

import (
	"context"
	"fmt"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/bindings/proc"
)

const doc = "docker: containers through the Docker Engine API (ping, info, containers, container, stats)"

var funcs = []luax.Func{
	{Name: "ping", Doc: "docker.ping() --> true | nil, err", Fn: luaPing},
	{Name: "info", Doc: "docker.info() --> {server_version, api_version, cgroup_driver, cgroup_version, containers, running, paused, stopped, images, ...} | nil, err", Fn: luaInfo},
	{Name: "containers", Doc: `docker.containers{all=false, filters={label=, status=, name=, id=, ancestor=, ...}} --> array of Container | nil, err  (docker ps semantics; a filter value is a string or an array)`, Fn: luaContainers},
	{Name: "container", Doc: "docker.container(ref) --> Container | nil, err  (ref: name, id, or unique id prefix)", Fn: luaContainer},
	{Name: "stats", Doc: `docker.stats{interval=0, filters=, fields=} --> array of {id, name, memory, cpu, pids, net} for running containers | nil, err  (one interval shared by all; by default what docker stats shows: memory {usage, working_set, limit}, cpu {usage_ns}, pids {current}, net; fields={"memory", "cpu", "pids", "io", "net"} or "all" reads those groups in full, as c:stats)`, Fn: luaStats},
}

// ContainerFunc is a method of Container that another module provides
// (those modules import docker, so docker cannot call them): it reads its
// arguments from argument n on, pushes its results and returns their count.
type ContainerFunc func(L *lua.LState, c *Container, n int) int

// Extensions are the methods of Container that other modules provide. A nil
// one fails saying which module is missing.
type Extensions struct {
	Logs    ContainerFunc // c:logs{...}: the logs module's
	Events  ContainerFunc // c:events{...}: the events module's (an engine's containers; a CRI runtime's have their own)
	Trace   ContainerFunc // c:trace(kinds, {...} [, fn]): the trace module's
	History ContainerFunc // c:history{...}: the journal module's
}

// Module is the docker module: its functions and the Container type that
// every runtime's containers share.
type Module struct {
	container *luax.Type
}

// New returns the docker module, whose Containers have the methods x gives.
func New(x Extensions) *Module {
	return &Module{container: containerType(x)}
}

// Loader is the docker module's loader for L.PreloadModule. It registers
// the Container type with its extensions; bindings.New loads docker before
// the modules that push Containers (containers, cri).
func (m *Module) Loader(L *lua.LState) int {
	m.container.Register(L)
	L.Push(luax.NewModule(L, "docker", doc, funcs))
	return 1
}

// lookupL is Lookup through the engine of L (or its state on disk).
func lookupL(L *lua.LState, ref string) (*Container, error) {
	e, err := engineFor(L)
	if err != nil {
		return nil, err
	}
	defer announce(L, e)
	return Lookup(luax.Ctx(L), e, ref)
}

// containerTypeName names the Container type's metatable.
const containerTypeName = "ctrsh.Container"

// containerType is the Container type, with the methods other modules
// provide taken from x.
func containerType(x Extensions) *luax.Type {
	return &luax.Type{
		Name: containerTypeName,
		Doc:  "Container: a container's snapshot (c.id, c.name, c.pid, c.state, ...; c.source: \"engine\", or \"disk\" when the engine did not answer; c.runtime: \"docker\" or \"podman\"; c:refresh() re-reads) and what can be done with it",
		Fields: []string{"id", "short_id", "name", "image", "image_id", "state", "status", "pid", "created",
			"started_at", "finished_at", "labels", "restart_count", "exit_code", "oom_killed", "restart_policy", "source", "runtime", "pod"},
		Field:   containerField,
		String:  containerString,
		Methods: containerMethods(x),
	}
}

// inspectOnly are the fields a container from the engine's list does not
// have until it is inspected (Complete).
var inspectOnly = map[string]bool{"started_at": true, "finished_at": true, "restart_count": true,
	"exit_code": true, "oom_killed": true, "restart_policy": true}

func containerField(L *lua.LState, v any, key string) lua.LValue {
	c := v.(*Container)
	if c.partial && inspectOnly[key] {
		_ = c.Complete(luax.Ctx(L)) // on failure, the list's snapshot stays
	}
	switch key {
	case "id":
		return lua.LString(c.ID)
	case "short_id":
		return lua.LString(c.ShortID())
	case "name":
		return lua.LString(c.Name)
	case "image":
		return lua.LString(c.Image)
	case "image_id":
		return lua.LString(c.ImageID)
	case "state":
		return lua.LString(c.State)
	case "status":
		return lua.LString(c.Status)
	case "pid":
		return lua.LNumber(c.PID)
	case "created":
		return luax.ToLua(L, c.Created)
	case "started_at":
		return luax.ToLua(L, c.StartedAt)
	case "finished_at":
		return luax.ToLua(L, c.FinishedAt)
	case "labels":
		return luax.ToLua(L, c.Labels)
	case "restart_count":
		return lua.LNumber(c.RestartCount)
	case "exit_code":
		return lua.LNumber(c.ExitCode)
	case "oom_killed":
		return lua.LBool(c.OOMKilled)
	case "restart_policy":
		return optString(c.RestartPolicy)
	case "source":
		return lua.LString(c.Source)
	case "runtime":
		return lua.LString(c.Runtime)
	case "pod":
		if p := c.PodOf(); p != nil {
			return PodTable(L, p)
		}
	}
	return lua.LNil
}

func containerString(v any) string {
	c := v.(*Container)
	name := c.Name
	if c.Pod != nil {
		name = c.Pod.String() + "/" + c.Name
	}
	s := fmt.Sprintf("<container %s %.6s… %s", name, c.ID, c.State)
	if c.PID > 0 {
		s += fmt.Sprintf(" pid %d", c.PID)
	}
	return s + ">"
}

// containerMethods are the methods of Container: its own, c:enter and
// c:run (lua_enter.go), c:env (lua_env.go), and x's.
func containerMethods(x Extensions) []luax.Func {
	return []luax.Func{
		{Name: "refresh", Doc: "c:refresh() --> c | nil, err  (re-reads the snapshot fields)", Fn: luaRefresh},
		{Name: "inspect", Doc: "c:inspect() --> the engine's inspect document (engine key names) | nil, err", Fn: luaInspect},
		{Name: "top", Doc: "c:top() --> array of {pid, pid_inside, ppid, ppid_inside, uid, user, comm, cmd, state, rss, cpu_seconds} | nil, err  (from /proc)", Fn: luaTop},
		{Name: "stats", Doc: "c:stats{interval=0} --> {memory=, cpu=, pids=, io=, net=} | nil, err  (from the cgroup; cpu.percent only when interval > 0)", Fn: luaCStats},
		{Name: "exec", Doc: "c:exec(cmd, {user=, env=, workdir=, tty=false, stdin=, timeout=}) --> {code=, stdout=, stderr=} | nil, err  (engine exec; cmd: array, or a string split on spaces)", Fn: luaExec, Unsafe: true},
		{Name: "logs", Doc: `c:logs{tail=, since=, ["until"]=, follow=false, timestamps=false, grep=} --> iterator of {stream, time, line}, close`, Fn: luaLogs(x.Logs)},
		{Name: "events", Doc: `c:events{filters=, since=, ["until"]=} --> iterator of events of this container, close`, Fn: luaEvents(x.Events)},
		{Name: "trace", Doc: `c:trace(kind|kinds, {duration=, ["until"]=, buffer=, path=} [, fn]) --> iterator of what this container's processes do (kinds: exec, exit, oom, connect, open; see help(trace))`, Fn: extension("trace", "trace", x.Trace)},
		{Name: "history", Doc: `c:history{since=, ["until"]=, action=, source=, type=, limit=} --> array of this container's journal events (journal.events) | nil, err`, Fn: extension("history", "journal", x.History)},
		{Name: "ns", Doc: "c:ns() --> {mnt=inode, net=, pid=, ipc=, uts=, user=, cgroup=, time=} | nil, err", Fn: luaNS},
		{Name: "cgroup", Doc: "c:cgroup() --> Cgroup | nil, err", Fn: luaCgroup},
		{Name: "start", Doc: "c:start() --> true | nil, err", Fn: lifecycle("start", (*Container).Start), Unsafe: true},
		{Name: "pause", Doc: "c:pause() --> true | nil, err", Fn: lifecycle("pause", (*Container).Pause), Unsafe: true},
		{Name: "unpause", Doc: "c:unpause() --> true | nil, err", Fn: lifecycle("unpause", (*Container).Unpause), Unsafe: true},
		{Name: "stop", Doc: "c:stop{timeout=} --> true | nil, err  (SIGTERM, SIGKILL after timeout seconds)", Fn: luaStop("stop", (*Container).Stop), Unsafe: true},
		{Name: "restart", Doc: "c:restart{timeout=} --> true | nil, err", Fn: luaStop("restart", (*Container).Restart), Unsafe: true},
		{Name: "kill", Doc: `c:kill([signal="KILL"]) --> true | nil, err  (signal: "TERM", "SIGHUP", 9)`, Fn: luaKill, Unsafe: true},
		{Name: "wait", Doc: "c:wait() --> exit code | nil, err  (waits until the container stops)", Fn: luaWait},
		{Name: "enter", Doc: enterDoc, Fn: containerEnter, Unsafe: true},
		{Name: "run", Doc: runDoc, Fn: containerRun, Unsafe: true},
		{Name: "env", Doc: envDoc, Fn: luaEnv},
	}
}

// PodTable is the Lua form of a pod: {name, namespace, uid, id}.
func PodTable(L *lua.LState, p *Pod) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("name", lua.LString(p.Name))
	t.RawSetString("namespace", lua.LString(p.Namespace))
	if p.UID != "" {
		t.RawSetString("uid", lua.LString(p.UID))
	}
	if p.ID != "" {
		t.RawSetString("id", lua.LString(p.ID))
	}
	return t
}

// Push pushes c as a Container userdata.
func Push(L *lua.LState, c *Container) { L.Push(newUserData(L, c)) }

// newUserData wraps c as a Container userdata, with the methods of the
// docker module loaded in L; in a state without it, with no extensions
// (c:logs then says the logs module is not loaded).
func newUserData(L *lua.LState, c *Container) *lua.LUserData {
	mt, ok := L.GetTypeMetatable(containerTypeName).(*lua.LTable)
	if !ok {
		mt = containerType(Extensions{}).Register(L)
	}
	ud := L.NewUserData()
	ud.Value = c
	ud.Metatable = mt
	return ud
}

// Check returns the Container at argument n, raising Lua's standard error
// when it is not one.
func Check(L *lua.LState, n int) *Container {
	return luax.CheckType(L, n, containerTypeName).(*Container)
}

func luaPing(L *lua.LState) int {
	e, err := Client(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	if err := e.Ping(luax.Ctx(L)); err != nil {
		return luax.Fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func luaInfo(L *lua.LState) int {
	e, err := Client(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	res, err := e.info(luax.Ctx(L))
	if err != nil {
		return luax.Fail(L, fmt.Errorf("docker info: %w", e.Err(err)))
	}
	in := res.Info
	t := L.CreateTable(0, 20)
	set := func(k string, v any) { t.RawSetString(k, luax.ToLua(L, v)) }
	set("server_version", in.ServerVersion)
	set("api_version", e.ClientVersion())
	set("cgroup_driver", in.CgroupDriver)
	set("cgroup_version", in.CgroupVersion)
	set("containers", in.Containers)
	set("running", in.ContainersRunning)
	set("paused", in.ContainersPaused)
	set("stopped", in.ContainersStopped)
	set("images", in.Images)
	set("name", in.Name)
	set("id", in.ID)
	set("host", e.Host)
	set("kernel_version", in.KernelVersion)
	set("operating_system", in.OperatingSystem)
	set("os_type", in.OSType)
	set("architecture", in.Architecture)
	set("ncpu", in.NCPU)
	set("mem_total", in.MemTotal)
	set("storage_driver", in.Driver)
	set("logging_driver", in.LoggingDriver)
	set("docker_root_dir", in.DockerRootDir)
	set("default_runtime", in.DefaultRuntime)
	set("security_options", in.SecurityOptions)
	set("runtime", e.Runtime())
	L.Push(t)
	return 1
}

// CheckFilters reads the filters table of option key: keys to a string or an array of
// strings.
func CheckFilters(L *lua.LState, o *luax.Options, key string) map[string][]string {
	t := o.TableOpt(key)
	if t == nil {
		return nil
	}
	out := map[string][]string{}
	t.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			L.ArgError(o.N, fmt.Sprintf("option %q: keys must be strings", key))
		}
		vs, err := luax.StringList(v)
		if err != nil {
			L.ArgError(o.N, fmt.Sprintf("option %q: %s: %v", key, string(ks), err))
		}
		out[string(ks)] = vs
	})
	return out
}

func luaContainers(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "all", "filters")
	lo := ListOptions{All: o.Bool("all", false), Filters: CheckFilters(L, o, "filters")}
	e, err := engineFor(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	defer announce(L, e)
	list, err := List(luax.Ctx(L), e, lo)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(len(list), 0)
	for _, c := range list {
		t.Append(newUserData(L, c))
	}
	L.Push(t)
	return 1
}

func luaContainer(L *lua.LState) int {
	ref := L.CheckString(1)
	if ref == "" {
		L.ArgError(1, "empty container reference")
	}
	c, err := lookupL(L, ref)
	if err != nil {
		return luax.Fail(L, err)
	}
	Push(L, c)
	return 1
}

func luaRefresh(L *lua.LState) int {
	c := Check(L, 1)
	defer announce(L, c.engine)
	if err := c.Refresh(luax.Ctx(L)); err != nil {
		return luax.Fail(L, err)
	}
	L.Push(L.Get(1))
	return 1
}

func luaInspect(L *lua.LState) int {
	c := Check(L, 1)
	defer announce(L, c.engine)
	if err := c.Refresh(luax.Ctx(L)); err != nil {
		return luax.Fail(L, err)
	}
	if c.Source == SourceDisk {
		return luax.Fail(L, c.needsEngine("inspect"))
	}
	v, err := decodeJSON(c.Raw)
	if err != nil {
		return luax.Failf(L, "%s: inspect: %v", c.Subject(), err)
	}
	L.Push(luax.ToLua(L, v))
	return 1
}

func luaTop(L *lua.LState) int {
	c := Check(L, 1)
	rows, err := topRows(luax.Ctx(L), c, luax.HostRoot(L), luax.HostRoot(L))
	if err != nil {
		return luax.Fail(L, fmt.Errorf("%s: top: %w", c.Subject(), err))
	}
	if len(rows) == 0 {
		if err := c.Refresh(luax.Ctx(L)); err != nil {
			return luax.Fail(L, err)
		}
		if c.PID == 0 {
			return luax.Failf(L, "%s: not running (%s)", c.Subject(), c.State)
		}
	}
	L.Push(proc.TopTable(L, rows))
	return 1
}

func checkInterval(L *lua.LState, n int, extra ...string) (*luax.Options, time.Duration) {
	o := luax.CheckOptions(L, n, append([]string{"interval"}, extra...)...)
	d, _ := o.Duration("interval")
	return o, d
}

// StatsTable is the Lua form of s (c:stats and each row of docker.stats).
func StatsTable(L *lua.LState, s *Stats) *lua.LTable {
	t := L.CreateTable(0, 7)
	t.RawSetString("id", lua.LString(s.ID))
	t.RawSetString("name", lua.LString(s.Name))
	if s.Memory != nil {
		t.RawSetString("memory", cgroup.MemoryTable(L, s.Memory))
	}
	if s.CPU != nil {
		cpu := cgroup.CPUTable(L, s.CPU)
		if s.CPUPercent != nil {
			cpu.RawSetString("percent", lua.LNumber(*s.CPUPercent))
		}
		t.RawSetString("cpu", cpu)
	}
	if s.Pids != nil {
		t.RawSetString("pids", cgroup.PidsTable(L, s.Pids))
	}
	if s.IO != nil {
		t.RawSetString("io", cgroup.IOTable(L, s.IO))
	}
	if s.Net != nil {
		net := netTable(L, s.Net.Total)
		ifs := L.CreateTable(0, len(s.Net.Interfaces))
		names := make([]string, 0, len(s.Net.Interfaces))
		for n := range s.Net.Interfaces {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ifs.RawSetString(n, netTable(L, s.Net.Interfaces[n]))
		}
		net.RawSetString("interfaces", ifs)
		t.RawSetString("net", net)
	}
	return t
}

func netTable(L *lua.LState, c NetCounters) *lua.LTable {
	t := L.CreateTable(0, 8)
	t.RawSetString("rx_bytes", lua.LNumber(c.RxBytes))
	t.RawSetString("rx_packets", lua.LNumber(c.RxPackets))
	t.RawSetString("rx_errors", lua.LNumber(c.RxErrors))
	t.RawSetString("rx_dropped", lua.LNumber(c.RxDropped))
	t.RawSetString("tx_bytes", lua.LNumber(c.TxBytes))
	t.RawSetString("tx_packets", lua.LNumber(c.TxPackets))
	t.RawSetString("tx_errors", lua.LNumber(c.TxErrors))
	t.RawSetString("tx_dropped", lua.LNumber(c.TxDropped))
	return t
}

func luaCStats(L *lua.LState) int {
	c := Check(L, 1)
	_, interval := checkInterval(L, 2)
	if c.PID <= 0 {
		if err := c.Refresh(luax.Ctx(L)); err != nil {
			return luax.Fail(L, err)
		}
	}
	stats, errs := ReadStats(luax.Ctx(L), luax.HostRoot(L), []StatTarget{{ID: c.ID, Name: c.Name, PID: c.PID}}, interval)
	if errs[0] != nil {
		return luax.Fail(L, errs[0])
	}
	L.Push(StatsTable(L, stats[0]))
	return 1
}

func luaStats(L *lua.LState) int {
	o, interval := checkInterval(L, 1, "filters", "fields")
	filters := CheckFilters(L, o, "filters")
	fields := checkStatFields(L, o)
	targets, err := luaStatTargets(L, filters)
	if err != nil {
		return luax.Fail(L, err)
	}
	stop := luax.GetEnv(L).Progress.Wait(fmt.Sprintf("docker.stats: %d containers", len(targets)), interval)
	stats, errs := ReadStatsOf(luax.Ctx(L), luax.HostRoot(L), targets, interval, fields)
	stop()
	luax.CheckCancel(L)
	t := L.CreateTable(len(stats), 0)
	for i, s := range stats {
		// A container that stopped during the interval is left out.
		if errs[i] == nil && s != nil {
			t.Append(StatsTable(L, s))
		}
	}
	L.Push(t)
	return 1
}

// luaStatTargets lists the running containers docker.stats reads: from
// the engine's state on disk when that is certain to be its own (no call
// to the engine, see diskTargets), else with one list call.
func luaStatTargets(L *lua.LState, filters map[string][]string) ([]StatTarget, error) {
	e, err := engineOf(L)
	if err != nil {
		return nil, err
	}
	if targets, ok := diskTargets(e, luax.HostRoot(L), filters); ok {
		return targets, nil
	}
	if e, err = engineFor(L); err != nil {
		return nil, err
	}
	defer announce(L, e)
	return statTargets(luax.Ctx(L), e, luax.HostRoot(L), filters)
}

// statGroups are the names docker.stats' fields option takes.
var statGroups = map[string]func(*StatFields){
	"memory": func(f *StatFields) { f.Memory = true },
	"cpu":    func(f *StatFields) { f.CPU = true },
	"pids":   func(f *StatFields) { f.Pids = true },
	"io":     func(f *StatFields) { f.IO = true },
	"net":    func(f *StatFields) { f.Net = true },
}

// checkStatFields reads docker.stats' fields option: the groups to read in
// full ("memory", "cpu", "pids", "io", "net", or "all"); without it,
// BriefStats.
func checkStatFields(L *lua.LState, o *luax.Options) StatFields {
	if !o.Has("fields") {
		return BriefStats
	}
	var f StatFields
	for _, name := range o.Strings("fields") {
		if name == "all" {
			return FullStats
		}
		set, ok := statGroups[name]
		if !ok {
			L.ArgError(o.N, fmt.Sprintf("option \"fields\": unknown field %q (memory, cpu, pids, io, net, all)", name))
		}
		set(&f)
	}
	return f
}

func luaExec(L *lua.LState) int {
	c := Check(L, 1)
	argv := luax.CheckCommand(L, 2)
	o := luax.CheckOptions(L, 3, "user", "env", "workdir", "tty", "stdin", "timeout")
	eo := ExecOptions{
		User:     o.String("user", ""),
		Env:      o.Env("env"),
		Workdir:  o.String("workdir", ""),
		TTY:      o.Bool("tty", false),
		HostRoot: luax.HostRoot(L),
	}
	if o.Has("stdin") {
		s := o.String("stdin", "")
		eo.Stdin = &s
	}
	eo.Timeout, _ = o.Duration("timeout")
	fields := map[string]any{"id": c.ID, "cmd": argv}
	if eo.User != "" {
		fields["as_user"] = eo.User // "user" is who ran ctrsh
	}
	done, err := luax.Audit(L, "exec", c.Subject(), fields)
	if err != nil {
		return luax.Fail(L, err)
	}
	res, err := c.Exec(luax.Ctx(L), argv, eo)
	var code any
	if res != nil {
		code = res.Code
	}
	done(err, map[string]any{"code": code})
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(0, 3)
	t.RawSetString("code", lua.LNumber(res.Code))
	t.RawSetString("stdout", lua.LString(res.Stdout))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	L.Push(t)
	return 1
}

func lifecycle(action string, fn func(*Container, context.Context) error) lua.LGFunction {
	return func(L *lua.LState) int {
		c := Check(L, 1)
		done, err := luax.Audit(L, action, c.Subject(), map[string]any{"id": c.ID})
		if err != nil {
			return luax.Fail(L, err)
		}
		err = fn(c, luax.Ctx(L))
		done(err, nil)
		if err != nil {
			return luax.Fail(L, err)
		}
		L.Push(lua.LTrue)
		return 1
	}
}

func luaStop(action string, fn func(*Container, context.Context, *time.Duration) error) lua.LGFunction {
	return func(L *lua.LState) int {
		c := Check(L, 1)
		o := luax.CheckOptions(L, 2, "timeout")
		var timeout *time.Duration
		if d, ok := o.Duration("timeout"); ok {
			timeout = &d
		}
		fields := map[string]any{"id": c.ID}
		if timeout != nil {
			fields["timeout"] = timeout.Seconds()
		}
		done, err := luax.Audit(L, action, c.Subject(), fields)
		if err != nil {
			return luax.Fail(L, err)
		}
		err = fn(c, luax.Ctx(L), timeout)
		done(err, nil)
		if err != nil {
			return luax.Fail(L, err)
		}
		L.Push(lua.LTrue)
		return 1
	}
}

func luaKill(L *lua.LState) int {
	c := Check(L, 1)
	var signal string
	switch v := L.Get(2).(type) {
	case *lua.LNilType:
	case lua.LString:
		signal = string(v)
	case lua.LNumber:
		n := luax.CheckInteger(L, 2)
		if n < 1 || n > 64 {
			L.ArgError(2, fmt.Sprintf("signal must be between 1 and 64, got %s", v))
		}
		signal = fmt.Sprintf("%d", n)
	default:
		L.ArgError(2, "string or number expected, got "+luax.TypeName(L, 2))
	}
	done, err := luax.Audit(L, "kill", c.Subject(), map[string]any{"id": c.ID, "signal": signal})
	if err != nil {
		return luax.Fail(L, err)
	}
	err = c.Kill(luax.Ctx(L), signal)
	done(err, nil)
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

func luaWait(L *lua.LState) int {
	c := Check(L, 1)
	code, err := c.Wait(luax.Ctx(L))
	if err != nil {
		return luax.Fail(L, err)
	}
	L.Push(lua.LNumber(code))
	return 1
}

func luaNS(L *lua.LState) int {
	c := Check(L, 1)
	p, err := pinInit(L, c, false)
	if err != nil {
		return luax.Fail(L, err)
	}
	defer p.Close()
	m, err := ns.Of(luax.HostRoot(L), p.PID)
	if err == nil {
		err = p.Alive() // what was read was the pinned process's
	}
	if err != nil {
		return luax.Fail(L, fmt.Errorf("%s: %w", c.Subject(), err))
	}
	t := L.CreateTable(0, len(m))
	for k, v := range m {
		t.RawSetString(k, lua.LNumber(v))
	}
	L.Push(t)
	return 1
}

func luaCgroup(L *lua.LState) int {
	c := Check(L, 1)
	p, err := pinInit(L, c, false)
	if err != nil {
		return luax.Fail(L, err)
	}
	defer p.Close()
	cg, err := cgroup.ForPID(luax.HostRoot(L), p.PID)
	if err == nil {
		err = p.Alive() // what was read was the pinned process's
	}
	if err != nil {
		return luax.Fail(L, fmt.Errorf("%s: %w", c.Subject(), err))
	}
	cgroup.Push(L, cg)
	return 1
}

// extension is the method name of Container, f, which the module named
// module provides.
func extension(name, module string, f ContainerFunc) lua.LGFunction {
	return func(L *lua.LState) int {
		c := Check(L, 1)
		if f == nil {
			return luax.Failf(L, "%s: %s: the %s module is not loaded", c.Subject(), name, module)
		}
		return f(L, c, 2)
	}
}

// luaLogs is c:logs: the logs module's f, given the container completed
// (its log driver and file).
func luaLogs(f ContainerFunc) lua.LGFunction {
	return func(L *lua.LState) int {
		c := Check(L, 1)
		if f == nil {
			return luax.Failf(L, "%s: logs: the logs module is not loaded", c.Subject())
		}
		if err := c.Complete(luax.Ctx(L)); err != nil {
			return luax.Fail(L, err)
		}
		return f(L, c, 2)
	}
}

// luaEvents is c:events: a CRI runtime's own (EventOps), else the engine's
// through the events module's f.
func luaEvents(f ContainerFunc) lua.LGFunction {
	return func(L *lua.LState) int {
		c := Check(L, 1)
		if eo, ok := c.ops.(EventOps); ok {
			return eo.Events(L, c, 2)
		}
		if err := c.NeedEngine(luax.Ctx(L), "events"); err != nil {
			return luax.Fail(L, err)
		}
		if f == nil {
			return luax.Failf(L, "%s: events: the events module is not loaded", c.Subject())
		}
		return f(L, c, 2)
	}
}
