package cri

import (
	"fmt"
	"sort"

	lua "github.com/yuin/gopher-lua"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "cri: a Kubernetes node's containers and pods through the Container Runtime Interface (containerd, CRI-O): version, containers, container, pods, events"

var funcs = []luax.Func{
	{Name: "version", Doc: "cri.version() --> {runtime=, runtime_version=, api_version=, endpoint=, events=\"stream\"|\"poll\"} | nil, err  (the endpoint: --cri, $CONTAINER_RUNTIME_ENDPOINT, else the first of containerd's, CRI-O's and k3s's sockets that is a CRI runtime)", Fn: luaVersion},
	{Name: "containers", Doc: `cri.containers{all=false, filters={name=, id=, label=, status=, pod=, namespace=, ancestor=}} --> array of Container (with c.pod) | nil, err`, Fn: luaContainers},
	{Name: "container", Doc: `cri.container(ref) --> Container | nil, err  (ref: id, unique id prefix, name, "pod/name", "namespace/pod/name", or a pod's name when it has one container)`, Fn: luaContainer},
	{Name: "pods", Doc: `cri.pods{all=false, filters={name=, namespace=, label=, id=}} --> array of {id, name, namespace, uid, state, created, attempt, labels} | nil, err  (all=false: ready pods only)`, Fn: luaPods},
	{Name: "events", Doc: `cri.events{filters={event=, container=, pod=, namespace=, label=, image=}, since=, ["until"]=} --> iterator of {type, action, id, name, image, time, pod, attributes}, close | nil, err  (actions create, start, oom, die (attributes.exitCode, reason), destroy; survives a runtime restart; since: what the runtime still knows)`, Fn: luaEvents},
}

// Loader is the cri module's loader for L.PreloadModule.
func Loader(L *lua.LState) int {
	L.Push(luax.NewModule(L, "cri", doc, funcs))
	return 1
}

func luaVersion(L *lua.LState) int {
	c, err := ClientL(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(0, 5)
	t.RawSetString("runtime", lua.LString(c.Runtime))
	t.RawSetString("runtime_version", lua.LString(c.RuntimeVersion))
	t.RawSetString("api_version", lua.LString(c.APIVersion))
	t.RawSetString("endpoint", lua.LString(c.Endpoint))
	if known, stream := c.ev.get(); known {
		mode := "poll"
		if stream {
			mode = "stream"
		}
		t.RawSetString("events", lua.LString(mode))
	}
	L.Push(t)
	return 1
}

func checkFilters(L *lua.LState, o *luax.Options, known []string) map[string][]string {
	f := docker.CheckFilters(L, o, "filters")
	for k := range f {
		ok := false
		for _, kk := range known {
			ok = ok || k == kk
		}
		if !ok {
			L.ArgError(o.N, fmt.Sprintf("option \"filters\": unknown filter %q (known: %v)", k, known))
		}
	}
	return f
}

func luaContainers(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "all", "filters")
	lo := ListOptions{All: o.Bool("all", false), Filters: checkFilters(L, o, FilterKeys)}
	c, err := ClientL(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	list, err := c.List(luax.Ctx(L), lo)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(len(list), 0)
	for _, k := range list {
		docker.Push(L, k)
		t.Append(L.Get(-1))
		L.Pop(1)
	}
	L.Push(t)
	return 1
}

func luaContainer(L *lua.LState) int {
	ref := L.CheckString(1)
	if ref == "" {
		L.ArgError(1, "empty container reference")
	}
	c, err := ClientL(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	k, err := c.Lookup(luax.Ctx(L), ref)
	if err != nil {
		return luax.Fail(L, err)
	}
	docker.Push(L, k)
	return 1
}

var podFilterKeys = []string{"name", "namespace", "label", "id"}

func luaPods(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "all", "filters")
	all := o.Bool("all", false)
	filters := checkFilters(L, o, podFilterKeys)
	c, err := ClientL(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	pods, err := c.Pods(luax.Ctx(L))
	if err != nil {
		return luax.Fail(L, fmt.Errorf("cri pods: %w", err))
	}
	var list []*runtimeapi.PodSandbox
	for _, p := range pods {
		if !all && p.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
			continue
		}
		if matchPod(filters, p) {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].GetCreatedAt() > list[j].GetCreatedAt() })
	t := L.CreateTable(len(list), 0)
	for _, p := range list {
		t.Append(podTable(L, p))
	}
	L.Push(t)
	return 1
}

func matchPod(filters map[string][]string, p *runtimeapi.PodSandbox) bool {
	for key, vs := range filters {
		ok := len(vs) == 0
		for _, v := range vs {
			switch key {
			case "name":
				ok = ok || p.GetMetadata().GetName() == v
			case "namespace":
				ok = ok || p.GetMetadata().GetNamespace() == v
			case "id":
				ok = ok || (v != "" && len(v) <= len(p.GetId()) && p.GetId()[:len(v)] == v)
			case "label":
				k, val, hasVal := cut(v)
				got, present := p.GetLabels()[k]
				ok = ok || (present && (!hasVal || got == val))
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func podTable(L *lua.LState, p *runtimeapi.PodSandbox) *lua.LTable {
	t := L.CreateTable(0, 8)
	t.RawSetString("id", lua.LString(p.GetId()))
	t.RawSetString("name", lua.LString(p.GetMetadata().GetName()))
	t.RawSetString("namespace", lua.LString(p.GetMetadata().GetNamespace()))
	t.RawSetString("uid", lua.LString(p.GetMetadata().GetUid()))
	t.RawSetString("attempt", lua.LNumber(p.GetMetadata().GetAttempt()))
	state := "notready"
	if p.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
		state = "ready"
	}
	t.RawSetString("state", lua.LString(state))
	if ts := nanoTime(p.GetCreatedAt()); !ts.IsZero() {
		t.RawSetString("created", luax.Seconds(ts))
	}
	t.RawSetString("labels", luax.ToLua(L, p.GetLabels()))
	return t
}

func luaEvents(L *lua.LState) int {
	o := events.CheckOptions(L, 1)
	c, err := ClientL(L)
	if err != nil {
		return luax.Fail(L, err)
	}
	s, failed := events.OpenSource(L, c.EventSource(o), o)
	if s == nil {
		return failed
	}
	return s.Push(L)
}

// Events is c:events(opts) of a CRI container (docker.EventOps).
func (o *ops) Events(L *lua.LState, k *docker.Container, n int) int {
	eo := events.CheckOptions(L, n)
	if eo.Filters == nil {
		eo.Filters = map[string][]string{}
	}
	eo.Filters["container"] = []string{k.ID}
	s, failed := events.OpenSource(L, o.c.EventSource(eo), eo)
	if s == nil {
		return failed
	}
	return s.Push(L)
}
