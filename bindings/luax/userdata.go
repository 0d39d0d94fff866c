package luax

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Type describes one Go type exposed to Lua as userdata. Its metatable is
// named after it ("ctrsh.Container"); methods live on __index, fields are
// computed by Field, and __tostring uses String.
type Type struct {
	Name    string
	Doc     string
	Methods []Func
	// Fields lists the field names, for completion and help.
	Fields []string
	// Field returns the value of a field, or nil when there is none.
	Field func(L *lua.LState, v any, key string) lua.LValue
	// String renders the value for __tostring, e.g. "<container web 3f2a1c running pid 2543>".
	String func(v any) string
}

// Register creates the metatable of t in L. It is safe to call more than once.
func (t *Type) Register(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetTypeMetatable(t.Name).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(t.Name)
	methods := L.NewTable()
	var names []string
	for _, m := range t.Methods {
		methods.RawSetString(m.Name, m.function(L, errName(m, t.ShortName()+":"+m.Name), true))
		names = append(names, m.Name)
	}
	names = append(names, t.Fields...)
	sort.Strings(names)
	members := L.NewTable()
	for _, n := range names {
		members.Append(lua.LString(n))
	}
	mt.RawSetString("__name", lua.LString(t.Name))
	mt.RawSetString("__members", members)
	mt.RawSetString("__methods", methods)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		key, ok := L.Get(2).(lua.LString)
		if !ok {
			// c[1], c[{}]: no such member, as for any other missing key.
			L.Push(lua.LNil)
			return 1
		}
		if m := methods.RawGetString(string(key)); m != lua.LNil {
			L.Push(m)
			return 1
		}
		if t.Field != nil {
			L.Push(t.Field(L, ud.Value, string(key)))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		if t.String != nil {
			L.Push(lua.LString(t.String(ud.Value)))
		} else {
			L.Push(lua.LString("<" + t.Name + ">"))
		}
		return 1
	}))
	SetDoc(L, mt, t.Doc)
	return mt
}

// ShortName is the type's name without its "ctrsh." prefix ("Container"):
// argument errors name a method whose doc does not begin with its call
// ("c:logs{...}") after it: 'Container:logs'.
func (t *Type) ShortName() string { return strings.TrimPrefix(t.Name, "ctrsh.") }

// Push pushes v as a userdata of type t.
func (t *Type) Push(L *lua.LState, v any) {
	L.Push(t.New(L, v))
}

// New returns v wrapped as a userdata of type t.
func (t *Type) New(L *lua.LState, v any) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	ud.Metatable = t.Register(L)
	return ud
}

// Check returns the Go value of argument n, raising Lua's standard
// "bad argument" error when it is not a userdata of type t.
func (t *Type) Check(L *lua.LState, n int) any {
	return CheckType(L, n, t.Name)
}

// CheckType is Type.Check by the type's name. The methods of a Type use
// it: a function in the Type's literal cannot refer to the variable that
// holds it (Go reports an initialization cycle).
func CheckType(L *lua.LState, n int, name string) any {
	ud, ok := L.Get(n).(*lua.LUserData)
	if ok && ud.Metatable == L.GetTypeMetatable(name) {
		return ud.Value
	}
	L.ArgError(n, name+" expected, got "+TypeName(L, n))
	return nil
}

// Members returns the method and field names of a userdata, for completion.
func Members(L *lua.LState, v lua.LValue) []string {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil
	}
	mt, ok := ud.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	list, ok := mt.RawGetString("__members").(*lua.LTable)
	if !ok {
		return nil
	}
	var out []string
	list.ForEach(func(_, v lua.LValue) { out = append(out, v.String()) })
	return out
}

// Method returns the method named name of a userdata, or nil (for help(c.stats)).
func Method(v lua.LValue, name string) lua.LValue {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil
	}
	mt, ok := ud.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	if m, ok := mt.RawGetString("__methods").(*lua.LTable); ok {
		return m.RawGetString(name)
	}
	return nil
}
