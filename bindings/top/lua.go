package top

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/containers"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// LuaFunc is the global top() of every state.
var LuaFunc = luax.Func{
	Name: "top",
	Doc: `top{interval=1, sort="cpu"|"mem"|"pids"|"name", filter=} -- every container live, full-screen on a terminal ` +
		`(c m p n sort, / filter, Enter processes and logs, q quits); elsewhere --> one sample: array of ` +
		`{name, id, cpu_percent, mem_usage, mem_limit, mem_percent, pids, oom_kills, restarts, net_rx_bytes, ...} (CPU% over interval)`,
	Fn: luaTop,
}

// SortNames are the names of the orders for --sort and sort=.
var SortNames = map[string]SortKey{"cpu": ByCPU, "mem": ByMemory, "memory": ByMemory, "pids": ByPids, "name": ByName}

func luaTop(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "interval", "sort", "filter")
	interval := time.Second
	if d, ok := o.Duration("interval"); ok {
		interval = d
	}
	sortBy, ok := SortNames[strings.ToLower(o.String("sort", "cpu"))]
	if !ok {
		L.ArgError(1, fmt.Sprintf("sort: %q is not cpu, mem, pids or name", o.String("sort", "")))
	}
	filter := o.String("filter", "")
	root := luax.HostRoot(L)
	src, err := NewRuntimes(containers.Runtimes(L), root)
	if err != nil {
		return luax.Fail(L, err)
	}
	col, err := NewCollector(src, root)
	if err != nil {
		return luax.Fail(L, err)
	}
	defer col.Close()
	ctx := luax.Ctx(L)
	collect := func() Snapshot { return col.Collect(ctx) }
	env := luax.GetEnv(L)
	if in, out, ok := terminal(env); ok {
		luax.Flush(L)
		err := Run(ctx, in, out, Options{Interval: interval, Color: env.Color, Sort: sortBy, Filter: filter,
			Collect: collect, Detail: Details(ctx, src.Lookup, root, watchExecs(ctx, col))})
		luax.CheckCancel(L)
		if err != nil {
			return luax.Fail(L, fmt.Errorf("top: %w", err))
		}
		return 0
	}
	snap, err := Sample(ctx, collect, interval, sortBy, filter)
	luax.CheckCancel(L)
	if err == nil && snap.Err != nil && len(snap.Rows) == 0 {
		err = snap.Err
	}
	if err != nil {
		return luax.Fail(L, fmt.Errorf("top: %w", err))
	}
	t := L.CreateTable(len(snap.Rows), 0)
	for _, r := range snap.Rows {
		t.Append(luax.ToLua(L, Record(r)))
	}
	L.Push(t)
	return 1
}

// terminal is the state's terminal when both its input and output are
// one: the keys are read from in, the frames written to out as they are.
func terminal(env *luax.Env) (*os.File, *os.File, bool) {
	in, ok1 := env.Stdin.(*os.File)
	out, ok2 := luax.File(env.Stdout)
	if !ok1 || !ok2 || !luax.IsTerminal(in) || !luax.IsTerminal(out) {
		return nil, nil, false
	}
	return in, out, true
}

// watchExecs traces execs for the detail view when ctrsh is root.
func watchExecs(ctx context.Context, col *Collector) func() Execs {
	if os.Geteuid() != 0 {
		return NoExecs("tracing execs needs root")
	}
	return WatchExecs(ctx, col.Name)
}
