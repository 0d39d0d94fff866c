package repl

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// completionState is a Lua state shaped like ctrsh's: a module built with
// luax.NewModule, a userdata type with methods and fields, plain tables.
func completionState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	nop := func(L *lua.LState) int { return 0 }
	L.SetGlobal("docker", luax.NewModule(L, "docker", "docker: the engine", []luax.Func{
		{Name: "containers", Doc: "docker.containers{}", Fn: nop},
		{Name: "container", Doc: "docker.container(ref)", Fn: nop},
		{Name: "ping", Doc: "docker.ping()", Fn: nop},
	}))
	thing := &luax.Type{
		Name: "test.Thing",
		Methods: []luax.Func{
			{Name: "stats", Doc: "c:stats()", Fn: nop},
			{Name: "start", Doc: "c:start()", Fn: nop},
			{Name: "stop", Doc: "c:stop()", Fn: nop},
			{Name: "top", Doc: "c:top()", Fn: nop},
		},
		Fields: []string{"status", "state", "name"},
		Field: func(L *lua.LState, v any, key string) lua.LValue {
			return lua.LString(key)
		},
	}
	L.SetGlobal("c", thing.New(L, struct{}{}))
	if err := L.DoString(`
		nested = {inner = {deep = 1, deeper = 2, [3] = "x", ["not a name"] = 4}, fn = function() end, n = 1}
		base = {inherited = 1}
		obj = setmetatable({own = 1}, {__index = base})
		s = "text"
		_hidden = 1
		counter = 0
	`); err != nil {
		t.Fatal(err)
	}
	return L
}

func TestLuaCompletion(t *testing.T) {
	L := completionState(t)
	for _, tc := range []struct {
		before string
		want   []string
	}{
		{"docker.co", []string{"docker.container", "docker.containers"}},
		{"docker.", []string{"docker.container", "docker.containers", "docker.ping"}},
		{"print(docker.p", []string{"docker.ping"}},
		{"c:st", []string{"c:start", "c:stats", "c:stop"}},
		// After '.', fields too; after ':', only methods.
		{"c.st", []string{"c.start", "c.state", "c.stats", "c.status", "c.stop"}},
		{"c:na", nil},
		{"c.na", []string{"c.name"}},
		{"string.up", []string{"string.upper"}},
		{"x = string.rep(s:up", []string{"s:upper"}},
		{"nested.inner.de", []string{"nested.inner.deep", "nested.inner.deeper"}},
		{"nested.", []string{"nested.fn", "nested.inner", "nested.n"}},
		{"nested:", []string{"nested:fn"}},
		{"obj.", []string{"obj.inherited", "obj.own"}},
		// Globals and keywords.
		{"doc", []string{"docker"}},
		{"coun", []string{"counter"}},
		{"whi", []string{"while"}},
		{"for i = 1, 3 do pri", []string{"print"}},
		{"x = fu", []string{"function"}},
		{"_hid", []string{"_hidden"}},
		{"_G.coun", []string{"_G.counter"}},
		// Nothing to complete.
		{"nosuch.x", nil},
		{"nested.n.x", nil},
		{"c.name.x", nil},
		{"1.5", nil},
		{"(docker).co", nil},
		{"a:b.c", nil},
	} {
		t.Run(tc.before, func(t *testing.T) {
			got := luaCompletion(L, tc.before).full
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("completions of %q (-want +got):\n%s", tc.before, diff)
			}
		})
	}
}

// Names starting with "_" are offered only when asked for.
func TestLuaCompletionHidesUnderscoreNames(t *testing.T) {
	L := completionState(t)
	for _, w := range luaCompletion(L, "").full {
		if strings.HasPrefix(w, "_") {
			t.Errorf("%q offered for an empty word", w)
		}
	}
}

func TestCompleterDo(t *testing.T) {
	L := completionState(t)
	containers := func(L *lua.LState, expr string) []string {
		if strings.Contains(expr, `docker.container("`) {
			return []string{"web", "webapp", "db"}
		}
		return nil
	}
	var idle sync.Mutex
	c := &completer{L: L, idle: &idle, extra: containers}
	for _, tc := range []struct {
		line   string
		want   []string
		length int
	}{
		{"docker.co", []string{"ntainer", "ntainers"}, 2},
		{"c:st", []string{"art", "ats", "op"}, 2},
		{"string.up", []string{"per"}, 2},
		// Inside a string: the caller's candidates, not Lua names.
		{`docker.container("we`, []string{"b", "bapp"}, 2},
		{`docker.container("`, []string{"db", "web", "webapp"}, 0},
		{`x = "docker.co`, nil, 0},
		{`x = [[docker.co`, nil, 0},
		{`-- docker.co`, nil, 0},
	} {
		t.Run(tc.line, func(t *testing.T) {
			rs := []rune(tc.line)
			got, length := c.Do(rs, len(rs))
			var strs []string
			for _, s := range got {
				strs = append(strs, string(s))
			}
			if diff := cmp.Diff(tc.want, strs); diff != "" {
				t.Errorf("Do(%q) (-want +got):\n%s", tc.line, diff)
			}
			if len(tc.want) > 0 && length != tc.length {
				t.Errorf("Do(%q) length %d, want %d", tc.line, length, tc.length)
			}
		})
	}

	// The cursor in the middle of the line: only what precedes it counts.
	rs := []rune("docker.co + 1")
	if got, _ := c.Do(rs, len("docker.co")); len(got) != 2 {
		t.Errorf("completion before the cursor: %q", got)
	}

	// While a statement runs (idle held by Run), the state is not touched.
	idle.Lock()
	if got, _ := c.Do([]rune("docker.co"), len("docker.co")); got != nil {
		t.Errorf("completion while a statement runs: %q", got)
	}
	idle.Unlock()
}

func TestInString(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`print("abc`, true},
		{`print("abc")`, false},
		{`print('it\'s`, true},
		{`print("a\"b") x`, false},
		{`s = [[long`, true},
		{`s = [==[long]]`, true},
		{`s = [==[long]==] x`, false},
		{`t[1]`, false},
		{`-- comment`, true},
		{"-- comment\nx", false},
		{`--[[ comment ]] x`, false},
		{`--[[ comment`, true},
		{`x - 1`, false},
	} {
		if got := inString(tc.src); got != tc.want {
			t.Errorf("inString(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
