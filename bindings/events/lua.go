package events

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "events: the engine's event stream; survives engine restarts without losing or repeating events"

var funcs = []luax.Func{
	{Name: "stream", Doc: `events.stream{filters={type=, event=, container=, image=, label=}, since=, ["until"]=} --> iterator of {type, action, id, name, image, time, attributes}, close | nil, err  ("for ev in events.stream{...}"; a loop left with break lets go at the next collectgarbage(), the end of the statement, or when 16 newer streams are open; or call close())`, Fn: luaStream},
	{Name: "watch", Doc: `events.watch(opts, fn) --> true | nil, err  (calls fn(ev) for each event until fn returns false, until opts["until"], or Ctrl-C)`, Fn: luaWatch},
}

// Loader is the events module's loader for L.PreloadModule.
func Loader(L *lua.LState) int {
	L.Push(luax.NewModule(L, "events", doc, funcs))
	return 1
}

// OfContainer is c:events(opts), with the options at argument n: what the
// docker module's Container is given as its events.
func OfContainer(L *lua.LState, c *docker.Container, n int) int {
	o := CheckOptions(L, n)
	if o.Filters == nil {
		o.Filters = map[string][]string{}
	}
	o.Filters["container"] = []string{c.ID}
	s, failed := open(L, o)
	if s == nil {
		return failed
	}
	return s.Push(L)
}

// CheckOptions reads the options of events.stream at argument n.
func CheckOptions(L *lua.LState, n int) Options {
	lo := luax.CheckOptions(L, n, "filters", "since", "until")
	var o Options
	if t := lo.TableOpt("filters"); t != nil {
		o.Filters = map[string][]string{}
		t.ForEach(func(k, v lua.LValue) {
			ks, ok := k.(lua.LString)
			if !ok {
				L.ArgError(n, `option "filters": keys must be strings`)
			}
			vs, err := luax.StringList(v)
			if err != nil {
				L.ArgError(n, fmt.Sprintf("option \"filters\": %s: %v", string(ks), err))
			}
			o.Filters[string(ks)] = vs
		})
	}
	o.Since, _ = lo.Time("since")
	o.Until, _ = lo.Time("until")
	return o
}

// open subscribes to the engine and starts the stream; on failure it
// pushed nil, message and returns (nil, 2).
func open(L *lua.LState, o Options) (*luax.Stream[Event], int) {
	e, err := docker.Client(L)
	if err != nil {
		return nil, luax.Fail(L, err)
	}
	return OpenSource(L, EngineSource(e, o), o)
}

// OpenSource subscribes to src and starts the stream of its events for
// Lua; on failure it pushed nil, message and returns (nil, 2).
func OpenSource(L *lua.LState, src Source, o Options) (*luax.Stream[Event], int) {
	sub, err := SubscribeTo(luax.Ctx(L), src, o)
	if err != nil {
		return nil, luax.Fail(L, err)
	}
	return luax.NewStream(L, QueueSize, func(sink *luax.Sink[Event]) error {
		return sub.Run(sink)
	}, Table), 0
}

// Table is the Lua form of an event.
func Table(L *lua.LState, ev Event) lua.LValue {
	t := L.CreateTable(0, 7)
	t.RawSetString("type", lua.LString(ev.Type))
	t.RawSetString("action", lua.LString(ev.Action))
	t.RawSetString("id", lua.LString(ev.ID))
	if ev.Name != "" {
		t.RawSetString("name", lua.LString(ev.Name))
	}
	if ev.Image != "" {
		t.RawSetString("image", lua.LString(ev.Image))
	}
	t.RawSetString("time", lua.LNumber(float64(ev.TimeNano)/1e9))
	if pod := ev.Attributes[docker.LabelPodName]; pod != "" {
		p := L.CreateTable(0, 3)
		p.RawSetString("name", lua.LString(pod))
		p.RawSetString("namespace", lua.LString(ev.Attributes[docker.LabelPodNamespace]))
		if uid := ev.Attributes[docker.LabelPodUID]; uid != "" {
			p.RawSetString("uid", lua.LString(uid))
		}
		t.RawSetString("pod", p)
	}
	t.RawSetString("attributes", luax.ToLua(L, ev.Attributes))
	return t
}

func luaStream(L *lua.LState) int {
	o := CheckOptions(L, 1)
	s, failed := open(L, o)
	if s == nil {
		return failed
	}
	return s.Push(L)
}

func luaWatch(L *lua.LState) int {
	o := CheckOptions(L, 1)
	fn := L.CheckFunction(2)
	s, failed := open(L, o)
	if s == nil {
		return failed
	}
	defer s.Close()
	for {
		ev, ok, err := s.Next(L)
		if err != nil {
			return luax.Fail(L, fmt.Errorf("docker events: %w", err))
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
