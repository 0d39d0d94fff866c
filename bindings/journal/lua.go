package journal

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "journal: container history recorded by `ctrsh journal record` (events, OOM kills, exits, samples); works with the engine down"

const eventsDoc = `{since=, ["until"]=, container=, action=, source=, type=, limit=} --> array of {time, source, type, action, id, name, image, exit_code, oom_killed, restart_count, oom_kills, pid, comm, memcg, attributes} | nil, err  (oldest first; limit keeps the newest; action/source/type: a string or an array)`

const samplesDoc = `{container=, since=, ["until"]=, limit=} --> array of {time, id, name, memory={usage, working_set, limit, oom_kills}, cpu={usage_ns, throttled_ns, nr_throttled}, pids={current, limit}} | nil, err`

var funcs = []luax.Func{
	{Name: "events", Doc: "journal.events" + eventsDoc, Fn: func(L *lua.LState) int { return luaEvents(L, nil, 1) }},
	{Name: "samples", Doc: "journal.samples" + samplesDoc, Fn: func(L *lua.LState) int { return luaSamples(L, nil, 1) }},
	{Name: "open", Doc: "journal.open(path) --> Journal | nil, err  (another journal file, read-only: j:events{...}, j:samples{...}, j:close())", Fn: luaOpen},
	{Name: "path", Doc: "journal.path() --> the default journal's path ($CTRSH_JOURNAL, else /var/lib/ctrsh/journal.db)", Fn: luaPath},
}

var journalType = &luax.Type{
	Name:   journalTypeName,
	Doc:    "Journal: a journal file opened read-only (j.path, j:events{...}, j:samples{...}, j:close())",
	Fields: []string{"path"},
	Field: func(L *lua.LState, v any, key string) lua.LValue {
		if key == "path" {
			return lua.LString(v.(*luaJournal).path)
		}
		return lua.LNil
	},
	String: func(v any) string { return fmt.Sprintf("<journal %s>", v.(*luaJournal).path) },
	Methods: []luax.Func{
		{Name: "events", Doc: "j:events" + eventsDoc, Fn: func(L *lua.LState) int { return luaEvents(L, checkJournal(L), 2) }},
		{Name: "samples", Doc: "j:samples" + samplesDoc, Fn: func(L *lua.LState) int { return luaSamples(L, checkJournal(L), 2) }},
		{Name: "close", Doc: "j:close() --> true", Fn: luaClose},
	},
}

const journalTypeName = "ctrsh.Journal"

// luaJournal is a Journal userdata: the store, nil once closed.
type luaJournal struct {
	path  string
	store *Store
}

// OfContainer is c:history(opts), with the options at argument n: the
// container's rows of the journal, what the docker module's Container is
// given as its history.
func OfContainer(L *lua.LState, c *docker.Container, n int) int {
	f := checkFilter(L, n, "since", "until", "action", "source", "type", "limit")
	f.Container = c.ID
	return pushEvents(L, nil, f)
}

// Loader is the journal module's loader for L.PreloadModule.
func Loader(L *lua.LState) int {
	journalType.Register(L)
	L.Push(luax.NewModule(L, "journal", doc, funcs))
	return 1
}

func checkJournal(L *lua.LState) *luaJournal {
	return luax.CheckType(L, 1, journalTypeName).(*luaJournal)
}

const defaultKey = "ctrsh.journal.default"

// defaultStore is the state's default journal, opened on first use (a
// failure is not kept: the recorder may create the file later).
func defaultStore(L *lua.LState) (*Store, error) {
	if ud, ok := L.G.Registry.RawGetString(defaultKey).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*Store); ok && s.Path == Path() {
			return s, nil
		}
	}
	s, err := OpenReadOnly(luax.Ctx(L), Path())
	if err != nil {
		return nil, err
	}
	ud := L.NewUserData()
	ud.Value = s
	L.G.Registry.RawSetString(defaultKey, ud)
	return s, nil
}

func storeOf(L *lua.LState, j *luaJournal) (*Store, error) {
	if j == nil {
		return defaultStore(L)
	}
	if j.store == nil {
		return nil, fmt.Errorf("journal %s: closed", j.path)
	}
	return j.store, nil
}

func checkFilter(L *lua.LState, n int, allowed ...string) Filter {
	o := luax.CheckOptions(L, n, allowed...)
	var f Filter
	f.Since, _ = o.Time("since")
	f.Until, _ = o.Time("until")
	for _, k := range allowed {
		switch k {
		case "container":
			f.Container = o.String("container", "")
		case "action":
			f.Actions = o.Strings("action")
		case "source":
			f.Sources = o.Strings("source")
		case "type":
			f.Types = o.Strings("type")
		case "limit":
			lim := o.Number("limit", 0)
			if lim < 0 || lim != float64(int(lim)) {
				L.ArgError(n, fmt.Sprintf("option \"limit\": a whole number >= 0 expected, got %v", lim))
			}
			f.Limit = int(lim)
		}
	}
	return f
}

func luaEvents(L *lua.LState, j *luaJournal, n int) int {
	f := checkFilter(L, n, "since", "until", "container", "action", "source", "type", "limit")
	return pushEvents(L, j, f)
}

func pushEvents(L *lua.LState, j *luaJournal, f Filter) int {
	s, err := storeOf(L, j)
	if err != nil {
		return luax.Fail(L, err)
	}
	evs, err := s.Events(luax.Ctx(L), f)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(len(evs), 0)
	for _, ev := range evs {
		t.Append(EventTable(L, ev))
	}
	L.Push(t)
	return 1
}

// EventTable is the Lua form of an event row.
func EventTable(L *lua.LState, ev *Event) *lua.LTable {
	t := L.CreateTable(0, 16)
	set := func(k string, v any) {
		if lv := luax.ToLua(L, v); lv != lua.LNil {
			t.RawSetString(k, lv)
		}
	}
	str := func(k, v string) {
		if v != "" {
			t.RawSetString(k, lua.LString(v))
		}
	}
	set("time", ev.Time)
	str("source", ev.Source)
	str("type", ev.Type)
	str("action", ev.Action)
	id := ev.ContainerID
	if id == "" {
		id = ev.ActorID
	}
	str("id", id)
	str("name", ev.ContainerName)
	str("image", ev.Image)
	if ev.ExitCode != nil {
		set("exit_code", *ev.ExitCode)
	}
	if ev.OOMKilled != nil {
		set("oom_killed", *ev.OOMKilled)
	}
	if ev.RestartCount != nil {
		set("restart_count", *ev.RestartCount)
	}
	set("oom_kills", ev.OOMKills)
	if ev.PID != nil {
		set("pid", *ev.PID)
	}
	str("comm", ev.Comm)
	str("memcg", ev.Memcg)
	attrs := ev.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	set("attributes", attrs)
	return t
}

func luaSamples(L *lua.LState, j *luaJournal, n int) int {
	f := checkFilter(L, n, "since", "until", "container", "limit")
	s, err := storeOf(L, j)
	if err != nil {
		return luax.Fail(L, err)
	}
	list, err := s.Samples(luax.Ctx(L), f)
	if err != nil {
		return luax.Fail(L, err)
	}
	t := L.CreateTable(len(list), 0)
	for _, sm := range list {
		t.Append(SampleTable(L, sm))
	}
	L.Push(t)
	return 1
}

// SampleTable is the Lua form of a sample, with c:stats's key names.
func SampleTable(L *lua.LState, s *Sample) *lua.LTable {
	t := L.CreateTable(0, 6)
	t.RawSetString("time", luax.ToLua(L, s.Time))
	t.RawSetString("id", lua.LString(s.ContainerID))
	t.RawSetString("name", lua.LString(s.ContainerName))
	sub := func(name string, kv ...any) {
		st := L.CreateTable(0, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			st.RawSetString(kv[i].(string), luax.ToLua(L, kv[i+1]))
		}
		t.RawSetString(name, st)
	}
	sub("memory", "usage", s.MemoryUsage, "working_set", s.MemoryWorkingSet, "limit", s.MemoryLimit, "oom_kills", s.OOMKills)
	sub("cpu", "usage_ns", s.CPUUsageNs, "throttled_ns", s.CPUThrottledNs, "nr_throttled", s.CPUNrThrottled)
	sub("pids", "current", s.Pids, "limit", s.PidsLimit)
	return t
}

func luaOpen(L *lua.LState) int {
	path := L.CheckString(1)
	if strings.TrimSpace(path) == "" {
		L.ArgError(1, "empty path")
	}
	s, err := OpenReadOnly(luax.Ctx(L), path)
	if err != nil {
		return luax.Fail(L, err)
	}
	journalType.Push(L, &luaJournal{path: path, store: s})
	return 1
}

func luaClose(L *lua.LState) int {
	j := checkJournal(L)
	if j.store != nil {
		j.store.Close()
		j.store = nil
	}
	L.Push(lua.LTrue)
	return 1
}

func luaPath(L *lua.LState) int {
	L.Push(lua.LString(Path()))
	return 1
}
