package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/tabular"
)

// viewCol is one column of a view: a tabular column, and how its value is
// read from a record when it is not the field at Key (a dotted path).
type viewCol struct {
	tabular.Column
	get func(L *lua.LState, rec lua.LValue) lua.LValue
}

// col is a column of a view.
func col(key, header string, kind tabular.Kind, priority int) viewCol {
	return viewCol{Column: tabular.Column{Key: key, Header: header, Kind: kind, Kinded: true, Priority: priority}}
}

// wide is a text column cut no narrower than min: other columns go first.
func wide(c viewCol, min int) viewCol {
	c.Min = min
	return c
}

// The views: how the records ctrsh's modules return show as tables, the
// columns people read first (docker stats, ps), in that order. Priority
// says which go first when the terminal is too narrow (highest first).
var (
	// statsView: docker.stats{} rows and journal.samples{} rows.
	statsView = []viewCol{
		col("time", "TIME", tabular.Time, 1),
		wide(col("name", "NAME", tabular.Plain, 0), 12),
		col("id", "ID", tabular.ID, 4),
		col("cpu.percent", "CPU%", tabular.Percent, 0),
		{Column: tabular.Column{Key: "mem", Header: "MEM", Kind: tabular.Bytes, Kinded: true}, get: statsMem},
		col("memory.limit", "LIMIT", tabular.Bytes, 2),
		{Column: tabular.Column{Key: "mem_percent", Header: "MEM%", Kind: tabular.Percent, Kinded: true, Priority: 1}, get: statsMemPercent},
		col("pids.current", "PIDS", tabular.Plain, 1),
		col("memory.oom_kills", "OOM", tabular.Plain, 1),
		col("net.rx_bytes", "NET_RX", tabular.Bytes, 3),
		col("net.tx_bytes", "NET_TX", tabular.Bytes, 3),
		col("io.read_bytes", "BLOCK_R", tabular.Bytes, 3),
		col("io.write_bytes", "BLOCK_W", tabular.Bytes, 3),
		col("cpu.usage_ns", "CPU_TIME", tabular.Nanos, 2),
	}
	// topView: c:top() rows.
	topView = []viewCol{
		col("pid", "PID", tabular.Plain, 0),
		col("pid_inside", "PID_INSIDE", tabular.Plain, 0),
		col("ppid", "PPID", tabular.Plain, 3),
		col("ppid_inside", "PPID_INSIDE", tabular.Plain, 4),
		col("user", "USER", tabular.Plain, 1),
		col("uid", "UID", tabular.Plain, 4),
		col("state", "STATE", tabular.Plain, 2),
		col("rss", "RSS", tabular.Bytes, 1),
		col("cpu_seconds", "TIME", tabular.Seconds, 1),
		col("comm", "COMM", tabular.Plain, 3),
		wide(col("cmd", "CMD", tabular.Plain, 0), 24),
	}
	// eventsView: journal.events{} rows (and any record with time, source
	// and action).
	eventsView = []viewCol{
		col("time", "TIME", tabular.Time, 0),
		col("source", "SOURCE", tabular.Plain, 3),
		col("type", "TYPE", tabular.Plain, 4),
		col("action", "ACTION", tabular.Plain, 0),
		wide(col("name", "NAME", tabular.Plain, 0), 12),
		col("id", "ID", tabular.ID, 3),
		col("image", "IMAGE", tabular.Plain, 4),
		col("exit_code", "EXIT", tabular.Plain, 1),
		col("oom_killed", "OOM_KILLED", tabular.Plain, 2),
		col("oom_kills", "OOM_KILLS", tabular.Plain, 2),
		col("restart_count", "RESTARTS", tabular.Plain, 2),
		col("pid", "PID", tabular.Plain, 2),
		col("comm", "COMM", tabular.Plain, 2),
		col("memcg", "MEMCG", tabular.Plain, 4),
		col("attributes", "ATTRIBUTES", tabular.Plain, 5),
	}
	// typeViews: arrays of userdata, by type name.
	typeViews = map[string][]viewCol{
		"ctrsh.Container": {
			wide(col("name", "NAME", tabular.Plain, 0), 12),
			{Column: tabular.Column{Key: "pod", Header: "POD", Kinded: true, Priority: 2, Min: 12}, get: podCell},
			col("id", "ID", tabular.ID, 3),
			{Column: tabular.Column{Key: "runtime", Header: "RUNTIME", Kinded: true, Priority: 3, Varied: true}},
			col("image", "IMAGE", tabular.Plain, 2),
			col("state", "STATE", tabular.Plain, 0),
			col("pid", "PID", tabular.Plain, 1),
			col("restart_count", "RESTARTS", tabular.Plain, 3),
			col("created", "CREATED", tabular.Time, 4),
			col("status", "STATUS", tabular.Plain, 1),
		},
		"ctrsh.Process": {
			col("pid", "PID", tabular.Plain, 0),
			col("pid_inside", "PID_INSIDE", tabular.Plain, 0),
			col("ppid", "PPID", tabular.Plain, 3),
			col("state", "STATE", tabular.Plain, 2),
			col("threads", "THREADS", tabular.Plain, 4),
			col("rss", "RSS", tabular.Bytes, 1),
			col("cpu_seconds", "TIME", tabular.Seconds, 2),
			col("start_time", "STARTED", tabular.Time, 4),
			col("container_id", "CONTAINER", tabular.ID, 3),
			col("comm", "COMM", tabular.Plain, 1),
			wide(col("cmdline", "CMDLINE", tabular.Plain, 0), 24),
		},
	}
)

// matchView is the view of tables with keys, or nil.
func matchView(keys map[string]bool) []viewCol {
	switch {
	case keys["memory"] && (keys["cpu"] || keys["pids"]):
		return statsView
	case keys["pid"] && keys["pid_inside"] && keys["cmd"] && keys["comm"]:
		return topView
	case keys["time"] && keys["source"] && keys["action"]:
		return eventsView
	}
	return nil
}

// podCell is a container's pod as "namespace/name" (nil without one).
func podCell(L *lua.LState, rec lua.LValue) lua.LValue {
	name, ok := field(L, rec, "pod.name").(lua.LString)
	if !ok || name == "" {
		return lua.LNil
	}
	if ns, ok := field(L, rec, "pod.namespace").(lua.LString); ok && ns != "" {
		return ns + "/" + name
	}
	return name
}

// statsMem is what docker stats shows as memory usage: the working set
// (usage less inactive file pages), else the usage.
func statsMem(L *lua.LState, rec lua.LValue) lua.LValue {
	if v := field(L, rec, "memory.working_set"); v != lua.LNil {
		return v
	}
	return field(L, rec, "memory.usage")
}

// statsMemPercent is MEM over LIMIT, in percent; nil without a limit.
func statsMemPercent(L *lua.LState, rec lua.LValue) lua.LValue {
	mem, ok1 := statsMem(L, rec).(lua.LNumber)
	limit, ok2 := field(L, rec, "memory.limit").(lua.LNumber)
	if !ok1 || !ok2 || limit <= 0 {
		return lua.LNil
	}
	return mem / limit * 100
}
