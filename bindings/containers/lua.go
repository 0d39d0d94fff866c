package containers

import (
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "containers: the containers of every runtime on the host (Docker or Podman, containerd, CRI-O) as one list: list, get, runtimes"

var funcs = []luax.Func{
	{Name: "list", Doc: `containers.list{all=false, filters={name=, id=, label=, status=, ancestor=, pod=, namespace=, runtime=, ...}} --> array of Container, warning | nil, err  (docker ps filters, and pod, namespace, runtime; warning: the runtimes that failed, when others answered)`, Fn: luaList},
	{Name: "get", Doc: `containers.get(ref) --> Container | nil, err  (ref: name, id, unique id prefix; on a Kubernetes node also "pod/name", "namespace/pod/name" or a one-container pod's name; "containerd://ID" names the runtime; a name found in two runtimes is an error naming both)`, Fn: luaGet},
	{Name: "stats", Doc: `containers.stats{interval=0, filters=} --> array of {id, name, runtime, pod, memory, cpu, pids, io, net} for the running containers of every runtime, warning | nil, err  (as docker.stats: from the cgroups, one interval for all)`, Fn: luaStats},
	{Name: "events", Doc: `containers.events{filters={type=, event=, container=, image=, label=, pod=, namespace=, runtime=}, since=, ["until"]=} --> iterator of {type, action, id, name, image, time, pod, attributes}, close | nil, err  (the events of every runtime in one stream, attributes.runtime saying whose; each survives its runtime's restart)`, Fn: luaEvents},
	{Name: "runtimes", Doc: `containers.runtimes() --> array of {name, kind="docker"|"cri", endpoint, error, down}  (the runtimes found on this host; error: it cannot be asked; down: it does not answer and its containers are read from disk)`, Fn: luaRuntimes},
}

// Loader is the containers module's loader for L.PreloadModule.
func Loader(L *lua.LState) int {
	L.Push(luax.NewModule(L, "containers", doc, funcs))
	return 1
}

func luaList(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "all", "filters")
	lo := ListOptions{All: o.Bool("all", false), Filters: checkFilters(L, o)}
	rts := Runtimes(L)
	list, errs := List(luax.Ctx(L), rts, lo)
	Announce(L, rts)
	luax.CheckCancel(L)
	if len(errs) > 0 && len(list) == 0 && len(errs) == countAsked(rts, lo) {
		return luax.Fail(L, errors.Join(errs...))
	}
	t := L.CreateTable(len(list), 0)
	for _, c := range list {
		docker.Push(L, c)
		t.Append(L.Get(-1))
		L.Pop(1)
	}
	L.Push(t)
	return pushWarning(L, errs, 1)
}

// pushWarning pushes the errors of the runtimes that failed while others
// answered, as one message after the n values pushed.
func pushWarning(L *lua.LState, errs []error, n int) int {
	if len(errs) == 0 {
		return n
	}
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	L.Push(lua.LString(strings.Join(msgs, "; ")))
	return n + 1
}

// checkFilters reads the filters option of containers.list and .stats.
func checkFilters(L *lua.LState, o *luax.Options) map[string][]string {
	f := docker.CheckFilters(L, o, "filters")
	for k := range f {
		if !contains(FilterKeys, k) {
			L.ArgError(o.N, "option \"filters\": unknown filter \""+k+"\" (known: "+strings.Join(FilterKeys, ", ")+")")
		}
	}
	return f
}

// countAsked is how many runtimes a list with o asks.
func countAsked(rts []*Runtime, o ListOptions) int {
	n := 0
	for _, rt := range rts {
		if vs := o.Filters["runtime"]; len(vs) == 0 || containsRuntime(vs, rt) {
			n++
		}
	}
	return n
}

func luaGet(L *lua.LState) int {
	ref := L.CheckString(1)
	if ref == "" {
		L.ArgError(1, "empty container reference")
	}
	rts := Runtimes(L)
	c, err := Get(luax.Ctx(L), rts, ref)
	Announce(L, rts)
	if err != nil {
		return luax.Fail(L, err)
	}
	docker.Push(L, c)
	return 1
}

func luaRuntimes(L *lua.LState) int {
	rts := Runtimes(L)
	t := L.CreateTable(len(rts), 0)
	for _, rt := range rts {
		r := L.CreateTable(0, 4)
		r.RawSetString("name", lua.LString(rt.Name))
		r.RawSetString("kind", lua.LString(rt.Kind))
		if rt.Endpoint != "" {
			r.RawSetString("endpoint", lua.LString(rt.Endpoint))
		}
		if rt.Err != nil {
			r.RawSetString("error", lua.LString(rt.Err.Error()))
		}
		if rt.Down != nil {
			r.RawSetString("down", lua.LString(rt.Down.Error()))
		}
		t.Append(r)
	}
	L.Push(t)
	return 1
}
