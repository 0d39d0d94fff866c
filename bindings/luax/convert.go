package luax

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ToLua converts a Go value to a Lua value: nil, bools, numbers, strings,
// time.Time (Unix seconds; the zero time is nil), slices (arrays), maps with
// string keys (tables), lua.LValue as is, and anything else through its JSON
// form (engine documents keep their engine key names).
func ToLua(L *lua.LState, v any) lua.LValue {
	if lv, ok := scalarToLua(v); ok {
		return lv
	}
	if lv, ok := collectionToLua(L, v); ok {
		return lv
	}
	return reflectToLua(L, v)
}

// scalarToLua converts nil, lua.LValue, bools, numbers (and pointers to
// them: nil is nil), strings and times; ok is false for anything else.
func scalarToLua(v any) (_ lua.LValue, ok bool) {
	switch v := v.(type) {
	case nil:
		return lua.LNil, true
	case lua.LValue:
		return v, true
	case bool:
		return lua.LBool(v), true
	case string:
		return lua.LString(v), true
	case []byte:
		return lua.LString(v), true
	case int:
		return lua.LNumber(v), true
	case int64:
		return lua.LNumber(v), true
	case uint64:
		return lua.LNumber(v), true
	case float64:
		return lua.LNumber(v), true
	case *int64:
		if v == nil {
			return lua.LNil, true
		}
		return lua.LNumber(*v), true
	case *uint64:
		if v == nil {
			return lua.LNil, true
		}
		return lua.LNumber(*v), true
	case *float64:
		if v == nil {
			return lua.LNil, true
		}
		return lua.LNumber(*v), true
	case time.Time:
		if v.IsZero() {
			return lua.LNil, true
		}
		return Seconds(v), true
	case json.Number:
		f, _ := v.Float64()
		return lua.LNumber(f), true
	}
	return nil, false
}

// collectionToLua converts the slices and string-keyed maps of strings and
// of any (JSON's shapes) to tables; ok is false for anything else.
func collectionToLua(L *lua.LState, v any) (_ lua.LValue, ok bool) {
	switch v := v.(type) {
	case []string:
		t := L.CreateTable(len(v), 0)
		for _, s := range v {
			t.Append(lua.LString(s))
		}
		return t, true
	case map[string]string:
		t := L.CreateTable(0, len(v))
		for k, s := range v {
			t.RawSetString(k, lua.LString(s))
		}
		return t, true
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, e := range v {
			t.Append(ToLua(L, e))
		}
		return t, true
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			t.RawSetString(k, ToLua(L, e))
		}
		return t, true
	}
	return nil, false
}

// reflectToLua converts named numeric and string types by their kind, a nil
// pointer to nil, and anything else through its JSON form (or, when that
// fails, its fmt form).
func reflectToLua(L *lua.LState, v any) lua.LValue {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return lua.LNumber(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return lua.LNumber(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return lua.LNumber(rv.Float())
	case reflect.String:
		return lua.LString(rv.String())
	case reflect.Pointer:
		if rv.IsNil() {
			return lua.LNil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return lua.LString(fmt.Sprint(v))
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return lua.LString(fmt.Sprint(v))
	}
	return ToLua(L, generic)
}

// ToGo converts a Lua value to plain Go values for JSON: tables that are
// arrays (keys 1..n) become []any, other tables map[string]any; functions and
// userdata become their tostring form. Cycles are cut with the string
// "<cycle>".
func ToGo(v lua.LValue) any {
	return toGo(v, map[*lua.LTable]bool{})
}

func toGo(v lua.LValue, seen map[*lua.LTable]bool) any {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Sprint(f)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		return f
	case lua.LString:
		return string(v)
	case *lua.LTable:
		if seen[v] {
			return "<cycle>"
		}
		seen[v] = true
		defer delete(seen, v)
		if n := v.Len(); n > 0 && isArray(v, n) {
			out := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				out = append(out, toGo(v.RawGetInt(i), seen))
			}
			return out
		}
		out := map[string]any{}
		v.ForEach(func(k, e lua.LValue) {
			out[keyString(k)] = toGo(e, seen)
		})
		return out
	default:
		return v.String()
	}
}

func keyString(k lua.LValue) string {
	if n, ok := k.(lua.LNumber); ok && float64(n) == math.Trunc(float64(n)) {
		return fmt.Sprintf("%d", int64(n))
	}
	return k.String()
}

// isArray reports whether t has exactly the keys 1..n.
func isArray(t *lua.LTable, n int) bool {
	count := 0
	t.ForEach(func(_, _ lua.LValue) { count++ })
	return count == n
}

// SortedKeys returns the keys of t: numbers first in order, then strings
// sorted, then anything else.
func SortedKeys(t *lua.LTable) []lua.LValue {
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		an, aNum := a.(lua.LNumber)
		bn, bNum := b.(lua.LNumber)
		switch {
		case aNum && bNum:
			return an < bn
		case aNum != bNum:
			return aNum
		}
		as, aStr := a.(lua.LString)
		bs, bStr := b.(lua.LString)
		switch {
		case aStr && bStr:
			return as < bs
		case aStr != bStr:
			return aStr
		}
		return a.String() < b.String()
	})
	return keys
}
