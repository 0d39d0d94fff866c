package luax

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// CheckCommand reads the command at argument n, as c:exec, c:enter and
// ns.enter take it: a string split on white space, or an array of strings.
// Anything else, or an empty command, raises.
func CheckCommand(L *lua.LState, n int) []string {
	var argv []string
	switch v := L.Get(n).(type) {
	case lua.LString:
		argv = strings.Fields(string(v))
	case *lua.LTable:
		list, err := StringList(v)
		if err != nil {
			L.ArgError(n, "array of strings expected: "+err.Error())
		}
		argv = list
	default:
		L.ArgError(n, "string or array expected, got "+TypeName(L, n))
	}
	if len(argv) == 0 {
		L.ArgError(n, "empty command")
	}
	return argv
}

// Env returns an environment option (env=) as KEY=VALUE strings: a table
// {KEY="value"}, an array {"KEY=value"}, or both. Values are strings or
// numbers; anything else raises, naming the key (an environment variable
// holds text: a boolean or a table is a mistake, never stringified or
// dropped). The array's entries come first, in order, then the keys,
// sorted.
func (o *Options) Env(key string) []string {
	t := o.TableOpt(key)
	if t == nil {
		return nil
	}
	var list, named []string
	n := t.Len()
	for i := 1; i <= n; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok || !strings.Contains(string(s), "=") || strings.HasPrefix(string(s), "=") {
			o.L.ArgError(o.N, fmt.Sprintf("option %q: element %d: \"KEY=value\" string expected, got %s", key, i, describe(t.RawGetInt(i))))
		}
		list = append(list, string(s))
	}
	t.ForEach(func(k, v lua.LValue) {
		if i, ok := k.(lua.LNumber); ok {
			if j, isInt := Integer(i); isInt && j >= 1 && j <= n {
				return // an array entry, read above
			}
		}
		ks, ok := k.(lua.LString)
		if !ok || ks == "" || strings.Contains(string(ks), "=") {
			o.L.ArgError(o.N, fmt.Sprintf("option %q: key %s: a variable name expected", key, quote(k)))
		}
		switch v := v.(type) {
		case lua.LString:
			named = append(named, string(ks)+"="+string(v))
		case lua.LNumber:
			named = append(named, string(ks)+"="+v.String())
		default:
			o.L.ArgError(o.N, fmt.Sprintf("option %q: key %s: string or number expected, got %s", key, quote(k), v.Type()))
		}
	})
	sort.Strings(named)
	return append(list, named...)
}

// describe names a value in a message: a string quoted, anything else by type.
func describe(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return fmt.Sprintf("%q", string(s))
	}
	return v.Type().String()
}
