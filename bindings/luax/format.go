package luax

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// FormatOptions bound what Format prints.
type FormatOptions struct {
	MaxDepth int // nested tables deeper than this print as {…} (default 6)
	MaxItems int // arrays longer than this show a prefix and the count (default 50)
	Indent   string
}

// Format renders a Lua value for people: tables with sorted keys, nested
// tables indented, cycles shown as <cycle>, userdata through __tostring, long
// arrays as a prefix and the count.
func Format(L *lua.LState, v lua.LValue, opt FormatOptions) string {
	if opt.MaxDepth == 0 {
		opt.MaxDepth = 6
	}
	if opt.MaxItems == 0 {
		opt.MaxItems = 50
	}
	if opt.Indent == "" {
		opt.Indent = "  "
	}
	f := formatter{L: L, opt: opt, seen: map[*lua.LTable]bool{}}
	f.value(v, 0)
	return f.b.String()
}

type formatter struct {
	L    *lua.LState
	opt  FormatOptions
	b    strings.Builder
	seen map[*lua.LTable]bool
}

// isIdent tells whether s is a Lua name, which a table key may be written
// as without brackets and quotes.
func isIdent(s string) bool { return s != "" && identLen(s) == len(s) }

func (f *formatter) value(v lua.LValue, depth int) {
	switch v := v.(type) {
	case lua.LString:
		f.b.WriteString(strconv.Quote(string(v)))
	case lua.LNumber:
		f.b.WriteString(FormatNumber(float64(v)))
	case *lua.LTable:
		f.table(v, depth)
	case *lua.LUserData, *lua.LFunction:
		f.b.WriteString(ToString(f.L, v))
	default:
		f.b.WriteString(v.String())
	}
}

// FormatNumber prints integers without a decimal point and floats briefly.
func FormatNumber(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e15 {
		return strconv.FormatInt(int64(n), 10)
	}
	return strconv.FormatFloat(n, 'g', 14, 64)
}

// ToString is Lua's tostring, honouring __tostring.
func ToString(L *lua.LState, v lua.LValue) string {
	if L != nil {
		if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
			if fn, ok := mt.RawGetString("__tostring").(*lua.LFunction); ok {
				if err := CallByParam(L, lua.P{Fn: fn, NRet: 1, Protect: true}, v); err == nil {
					s := L.Get(-1).String()
					L.Pop(1)
					return s
				}
			}
		}
	}
	if fn, ok := v.(*lua.LFunction); ok && L != nil {
		if d := Doc(L, fn); d != "" {
			return "<function " + firstWord(d) + ">"
		}
	}
	return v.String()
}

func firstWord(doc string) string {
	if i := strings.IndexAny(doc, " ("); i > 0 {
		return doc[:i]
	}
	return doc
}

func (f *formatter) table(t *lua.LTable, depth int) {
	if f.seen[t] {
		f.b.WriteString("<cycle>")
		return
	}
	keys := SortedKeys(t)
	if len(keys) == 0 {
		f.b.WriteString("{}")
		return
	}
	if depth >= f.opt.MaxDepth {
		f.b.WriteString("{…}")
		return
	}
	f.seen[t] = true
	defer delete(f.seen, t)
	n := t.Len()
	array := n > 0 && len(keys) == n
	if array && n <= 8 && f.flat(t, n) {
		f.b.WriteString("{")
		for i := 1; i <= n; i++ {
			if i > 1 {
				f.b.WriteString(", ")
			}
			f.value(t.RawGetInt(i), depth+1)
		}
		f.b.WriteString("}")
		return
	}
	pad := strings.Repeat(f.opt.Indent, depth+1)
	f.b.WriteString("{\n")
	shown := 0
	for _, k := range keys {
		if array && shown == f.opt.MaxItems {
			fmt.Fprintf(&f.b, "%s… (%d items in all)\n", pad, n)
			break
		}
		shown++
		f.b.WriteString(pad)
		if !array {
			f.key(k)
			f.b.WriteString(" = ")
		}
		f.value(t.RawGet(k), depth+1)
		f.b.WriteString(",\n")
	}
	f.b.WriteString(strings.Repeat(f.opt.Indent, depth))
	f.b.WriteString("}")
}

// flat reports whether every element is a scalar (short arrays print inline).
func (f *formatter) flat(t *lua.LTable, n int) bool {
	for i := 1; i <= n; i++ {
		switch t.RawGetInt(i).(type) {
		case *lua.LTable:
			return false
		}
	}
	return true
}

func (f *formatter) key(k lua.LValue) {
	if s, ok := k.(lua.LString); ok && isIdent(string(s)) {
		f.b.WriteString(string(s))
		return
	}
	f.b.WriteString("[")
	f.value(k, 0)
	f.b.WriteString("]")
}
