// Package luax holds what every ctrsh Lua module shares: the docs registry
// behind help(), module and userdata helpers, option tables, conversion
// between Go and Lua values, the statement's context, and the error forms of
// the API contract (raise for misuse, nil+message for runtime failures).
package luax

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

const (
	docsKey    = "ctrsh.docs"
	modulesKey = "ctrsh.modules"
)

func registryTable(L *lua.LState, key string) *lua.LTable {
	if t, ok := L.G.Registry.RawGetString(key).(*lua.LTable); ok {
		return t
	}
	t := L.NewTable()
	L.G.Registry.RawSetString(key, t)
	return t
}

// SetDoc records the one-line doc of a Lua value (a function, module table or
// userdata metatable) for help().
func SetDoc(L *lua.LState, v lua.LValue, doc string) {
	registryTable(L, docsKey).RawSet(v, lua.LString(doc))
}

// Doc returns the doc recorded for v, or "".
func Doc(L *lua.LState, v lua.LValue) string {
	if s, ok := registryTable(L, docsKey).RawGet(v).(lua.LString); ok {
		return string(s)
	}
	return ""
}

// Modules returns the names of the modules registered with NewModule, sorted.
func Modules(L *lua.LState) []string {
	var names []string
	registryTable(L, modulesKey).ForEach(func(k, _ lua.LValue) {
		names = append(names, k.String())
	})
	sort.Strings(names)
	return names
}

// Func is one Go function exposed to Lua, with its doc: the Lua call and what
// it returns, e.g. `docker.container(ref) --> Container | nil, err`.
type Func struct {
	Name string
	Doc  string
	Fn   lua.LGFunction
	// Unsafe marks what --safe refuses: a function that changes or enters
	// a container, or that reaches past ctrsh's read-only view (files, the
	// network). In a state whose Env is Safe it raises "NAME is not
	// available with --safe" however it is reached — a global, a module
	// table, a metatable, a loader called again — since the check is in
	// the function itself. NAME is the call as its Doc begins: "c:exec".
	Unsafe bool
}

// function makes the Lua function of f, whose argument errors name it name
// (see Function; method: see MethodFunction), and records its doc.
func (f Func) function(L *lua.LState, name string, method bool) *lua.LFunction {
	fn, doc := f.Fn, f.Doc
	if f.Unsafe {
		call, inner := callName(f), f.Fn
		fn = func(L *lua.LState) int {
			if GetEnv(L).Safe {
				L.RaiseError("%s is not available with --safe", call)
			}
			return inner(L)
		}
		doc += "  (not with --safe)"
	}
	lf := named(L, name, method, fn)
	SetDoc(L, lf, doc)
	return lf
}

// callNamePrefix is the call a doc begins with: Lua names joined by "."
// or ":" ("c:logs", "io.read", "sleep"), or "" when it begins with none.
// A "." or ":" not followed by a name is not part of it.
func callNamePrefix(doc string) string {
	n := identLen(doc)
	if n == 0 {
		return ""
	}
	for n < len(doc) && (doc[n] == '.' || doc[n] == ':') {
		k := identLen(doc[n+1:])
		if k == 0 {
			break
		}
		n += 1 + k
	}
	return doc[:n]
}

// identLen is the length of the Lua name s begins with (an ASCII letter or
// underscore, then letters, digits and underscores), or 0.
func identLen(s string) int {
	n := 0
	for n < len(s) && (isNameStart(s[n]) || n > 0 && '0' <= s[n] && s[n] <= '9') {
		n++
	}
	return n
}

// isNameStart tells whether c may begin a Lua name: an ASCII letter or "_".
func isNameStart(c byte) bool {
	return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// errName is how argument errors name f: as callName does when the call
// its doc begins with ends with f's name ("c:logs", "io.read", "sleep"),
// else def.
func errName(f Func, def string) string {
	n := callNamePrefix(f.Doc)
	if n == f.Name || strings.HasSuffix(n, "."+f.Name) || strings.HasSuffix(n, ":"+f.Name) {
		return n
	}
	return def
}

// callName is how messages name f: "c:exec", "ns.enter", "mkdir".
func callName(f Func) string {
	if s := callNamePrefix(f.Doc); s != "" {
		return s
	}
	return f.Name
}

// NewModule builds a module table from funcs, records the docs of the table
// and of every function, and remembers the module for help(). Argument
// errors of each function name it "module.function" (see Function).
func NewModule(L *lua.LState, name, doc string, funcs []Func) *lua.LTable {
	t := L.NewTable()
	for _, f := range funcs {
		t.RawSetString(f.Name, f.function(L, name+"."+f.Name, false))
	}
	SetDoc(L, t, doc)
	registryTable(L, modulesKey).RawSetString(name, t)
	return t
}

// SetFuncs adds funcs, with their docs, to an existing table (for globals
// and Lua's own libraries: argument errors name them as their docs begin,
// "print", "io.read", "file:read").
func SetFuncs(L *lua.LState, t *lua.LTable, funcs []Func) {
	for _, f := range funcs {
		n := errName(f, f.Name)
		t.RawSetString(f.Name, f.function(L, n, strings.Contains(n, ":")))
	}
}

// AllDocs returns every doc recorded in L (functions, methods, modules,
// types), sorted and without repeats: what help("word") searches.
func AllDocs(L *lua.LState) []string {
	seen := map[string]bool{}
	var out []string
	registryTable(L, docsKey).ForEach(func(_, v lua.LValue) {
		if s, ok := v.(lua.LString); ok && !seen[string(s)] {
			seen[string(s)] = true
			out = append(out, string(s))
		}
	})
	sort.Strings(out)
	return out
}
