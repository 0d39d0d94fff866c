package bindings_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

var callRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*([.:][A-Za-z_][A-Za-z0-9_]*)*`)

// TestEveryFunctionNamesItselfInArgumentErrors calls every module function
// and global of a full state with arguments of the wrong type, and every
// method with a wrong self: each argument error names the function as Lua's
// libraries do ('docker.containers', 'c:logs', 'sleep'; as help() does),
// however it was called (directly, through pcall, as a method).
func TestEveryFunctionNamesItselfInArgumentErrors(t *testing.T) {
	var out strings.Builder
	// No engine: a function that ignores its arguments fails fast.
	L := bindings.New(&luax.Env{Stdout: &out, Stderr: &out, DockerHost: "unix:///nonexistent/docker.sock"})
	defer L.Close()

	type target struct {
		name string // what the error must say
		fn   *lua.LFunction
	}
	var funcs []target
	for _, mod := range luax.Modules(L) {
		tbl, ok := L.GetGlobal(mod).(*lua.LTable)
		if !ok {
			t.Fatalf("module %s is not a global table", mod)
		}
		tbl.ForEach(func(k, v lua.LValue) {
			if fn, ok := v.(*lua.LFunction); ok {
				funcs = append(funcs, target{mod + "." + k.String(), fn})
			}
		})
	}
	for _, g := range []string{"print", "pp", "emit", "sleep", "now", "help", "fail", "mkdir", "playbook"} {
		funcs = append(funcs, target{g, L.GetGlobal(g).(*lua.LFunction)})
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].name < funcs[j].name })

	call := func(fn *lua.LFunction, args ...lua.LValue) string {
		err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, args...)
		if err == nil {
			return ""
		}
		if apiErr, ok := err.(*lua.ApiError); ok {
			if e, ok := luax.AsExit(apiErr.Object); ok {
				return e.Msg
			}
			return apiErr.Object.String()
		}
		return err.Error()
	}
	// These take no arguments, or any value.
	lenient := map[string]bool{"print": true, "pp": true, "help": true, "now": true, "docker.ping": true,
		"docker.info": true, "proc.self": true, "cgroup.version": true, "cgroup.mode": true, "journal.path": true,
		"cri.version": true, "containers.runtimes": true}
	bad := L.GetGlobal("print") // a function: the wrong type for (some) argument of all others
	for _, f := range funcs {
		msg := call(f.fn, bad, bad, bad)
		if strings.Contains(msg, "(anonymous)") {
			t.Errorf("%s: %s", f.name, msg)
		}
		if lenient[f.name] {
			continue
		}
		if !regexp.MustCompile(`bad argument #\d to '` + regexp.QuoteMeta(f.name) + `' \(`).MatchString(msg) {
			t.Errorf("%s(print, print, print): %q does not name '%s'", f.name, msg, f.name)
		}
	}
	if len(funcs) < 30 {
		t.Errorf("found %d functions, want every module function and global", len(funcs))
	}

	// Methods, from every userdata type's method table.
	methods := 0
	L.G.Registry.ForEach(func(_, v lua.LValue) {
		mt, ok := v.(*lua.LTable)
		if !ok {
			return
		}
		name, _ := mt.RawGetString("__name").(lua.LString)
		list, ok := mt.RawGetString("__methods").(*lua.LTable)
		if !ok || !strings.HasPrefix(string(name), "ctrsh.") {
			return
		}
		list.ForEach(func(k, v lua.LValue) {
			methods++
			// Named as its doc begins: c:logs{...} is 'c:logs'.
			call0 := callRE.FindString(luax.Doc(L, v))
			if !strings.HasSuffix(call0, ":"+k.String()) {
				t.Errorf("%s method %s: its doc %q does not begin with its call", name, k, luax.Doc(L, v))
			}
			want := fmt.Sprintf("calling '%s' on bad self (%s expected, got function)", call0, name)
			if msg := call(v.(*lua.LFunction), bad); !strings.Contains(msg, want) {
				t.Errorf("%s with a bad self: %q, want %q", call0, msg, want)
			}
			if msg := call(v.(*lua.LFunction)); !strings.Contains(msg, "calling '"+call0+"' on bad self ("+string(name)+" expected, got no value)") {
				t.Errorf("%s without self: %q", call0, msg)
			}
		})
	})
	if methods < 30 {
		t.Errorf("found %d methods, want the Container, Process, Cgroup and Conn methods", methods)
	}
}

// TestArgumentErrorsNameTheFunctionHoweverCalled: the name does not depend
// on the expression that called the function, and an error raised by a
// function that another one called keeps its own name.
func TestArgumentErrorsNameTheFunctionHoweverCalled(t *testing.T) {
	L, _ := newState(t, false)
	err := L.DoString(`
		local function err_of(f, ...)
			local ok, e = pcall(f, ...)
			assert(not ok, "no error")
			return e
		end
		local want = "bad argument #1 to 'json.decode' (string expected, got table)"
		local decode = json.decode
		for _, e in ipairs{
			err_of(json.decode, {}),
			err_of(function() return decode({}) end),
			err_of(function() local t = {f = json.decode}; return t.f({}) end),
			select(2, xpcall(function() json.decode({}) end, function(e) return e end)),
		} do
			assert(e:find(want, 1, true), e)
		end
		-- A nested call's error names the inner function, not the outer one.
		local e = err_of(function() json.encode(setmetatable({}, {__index = function() sleep("x") end}).x) end)
		assert(e:find("bad argument #1 to 'sleep' (number expected, got string)", 1, true), e)
		local co = coroutine.create(function() return json.decode(true) end)
		local ok, e2 = coroutine.resume(co)
		assert(not ok and e2:find("bad argument #1 to 'json.decode' (string expected, got boolean)", 1, true), e2)
	`)
	if err != nil {
		t.Fatal(err)
	}
}
