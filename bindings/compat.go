package bindings

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// The Lua 5.2–5.4 spellings people type, added to gopher-lua's Lua 5.1
// without changing anything 5.1 code sees: each is a name 5.1 lacks, or
// arguments 5.1 rejects or ignores.

// compat lists the additions for help().
const compatDoc = "Lua 5.1, plus from 5.2-5.4: table.pack, table.unpack, math.tointeger, string.rep(s, n, sep), " +
	"load(string), xpcall(f, h, ...), utf8, and read formats without * (\"a\", \"l\", \"L\", \"n\") in io.read, io.lines, file:read, file:lines"

// maxRep bounds what string.rep builds (Lua: "resulting string too large").
const maxRep = 1 << 30

func openCompat(L *lua.LState) {
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	if t, ok := g.RawGetString("table").(*lua.LTable); ok {
		luax.SetFuncs(L, t, []luax.Func{
			{Name: "pack", Doc: "table.pack(...) --> {n = select('#', ...), ...} (Lua 5.2)", Fn: tablePack},
		})
		if unpack, ok := g.RawGetString("unpack").(*lua.LFunction); ok {
			t.RawSetString("unpack", unpack)
			luax.SetDoc(L, unpack, "table.unpack(t [, i [, j]]) --> t[i], ..., t[j] (Lua 5.2; unpack in 5.1)")
		}
	}
	if m, ok := g.RawGetString("math").(*lua.LTable); ok {
		luax.SetFuncs(L, m, []luax.Func{
			{Name: "tointeger", Doc: "math.tointeger(x) --> x as an integer when it has an integral value, else nil (Lua 5.3)", Fn: mathToInteger},
		})
	}
	if s, ok := g.RawGetString("string").(*lua.LTable); ok {
		if rep, ok := s.RawGetString("rep").(*lua.LFunction); ok && rep.IsG {
			luax.SetFuncs(L, s, []luax.Func{
				{Name: "rep", Doc: "string.rep(s, n [, sep]) --> n copies of s, separated by sep (the separator is Lua 5.2's)", Fn: stringRep(rep.GFunction)},
			})
		}
	}
	openLoaders(L)
	g.RawSetString("utf8", openUTF8(L))
	openIOCompat(L)
}

// table.pack lua table.pack(...) returns {n = select('#', ...), ...}.
func tablePack(L *lua.LState) int {
	n := L.GetTop()
	t := L.CreateTable(n, 1)
	for i := 1; i <= n; i++ {
		t.RawSetInt(i, L.Get(i))
	}
	t.RawSetString("n", lua.LNumber(n))
	L.Push(t)
	return 1
}

// math.tointeger lua math.tointeger(x) returns x when it is (or is a
// string that is) a number with an integral value in range, else nil.
func mathToInteger(L *lua.LState) int {
	L.CheckAny(1)
	var f float64
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		f = float64(v)
	case lua.LString:
		n, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
		if err != nil {
			L.Push(lua.LNil)
			return 1
		}
		f = n
	default:
		L.Push(lua.LNil)
		return 1
	}
	if f != float64(int64(f)) || f < -(1<<63) || f >= 1<<63 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(f))
	return 1
}

// string.rep lua string.rep(s, n [, sep]) is gopher-lua's without sep.
func stringRep(stock lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		sep := L.OptString(3, "")
		if n <= 0 {
			L.Push(lua.LString(""))
			return 1
		}
		if total := int64(len(s))*int64(n) + int64(len(sep))*int64(n-1); total > maxRep {
			L.RaiseError("resulting string too large")
		}
		if sep == "" {
			return stock(L)
		}
		var b strings.Builder
		b.Grow(len(s)*n + len(sep)*(n-1))
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s)
		}
		L.Push(lua.LString(b.String()))
		return 1
	}
}
