package luax

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Options reads an options table argument (`c:logs{tail=10}`). Unknown keys
// and values of the wrong type raise Lua errors naming the argument and the
// option, as misuse should.
type Options struct {
	L     *lua.LState
	N     int
	Table *lua.LTable // nil when the argument was absent or nil
}

// CheckOptions returns the options table at argument n (absent or nil is an
// empty table) and raises for any key not in allowed.
func CheckOptions(L *lua.LState, n int, allowed ...string) *Options {
	o := &Options{L: L, N: n}
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		o.Table = v
	default:
		L.ArgError(n, "table expected, got "+typeName(L, n))
	}
	if o.Table == nil {
		return o
	}
	ok := make(map[string]bool, len(allowed))
	for _, a := range allowed {
		ok[a] = true
	}
	o.Table.ForEach(func(k, _ lua.LValue) {
		ks, isStr := k.(lua.LString)
		if !isStr || !ok[string(ks)] {
			L.ArgError(n, fmt.Sprintf("unknown option %s (known: %s)", quote(k), strings.Join(allowed, ", ")))
		}
	})
	return o
}

func quote(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return strconv.Quote(string(s))
	}
	return v.String()
}

// Has reports whether the option is set (not nil).
func (o *Options) Has(key string) bool { return o.Get(key) != lua.LNil }

// Get returns the raw value of an option, LNil when unset.
func (o *Options) Get(key string) lua.LValue {
	if o.Table == nil {
		return lua.LNil
	}
	return o.Table.RawGetString(key)
}

func (o *Options) typeError(key, want string, got lua.LValue) {
	o.L.ArgError(o.N, fmt.Sprintf("option %q: %s expected, got %s", key, want, got.Type().String()))
}

// String returns a string option, def when unset.
func (o *Options) String(key, def string) string {
	switch v := o.Get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		o.typeError(key, "string", v)
		return def
	}
}

// Number returns a number option, def when unset.
func (o *Options) Number(key string, def float64) float64 {
	switch v := o.Get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		return float64(v)
	default:
		o.typeError(key, "number", v)
		return def
	}
}

// Int returns an integer option, def when unset.
func (o *Options) Int(key string, def int) int {
	return int(o.Number(key, float64(def)))
}

// Bool returns a boolean option, def when unset.
func (o *Options) Bool(key string, def bool) bool {
	switch v := o.Get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LBool:
		return bool(v)
	default:
		o.typeError(key, "boolean", v)
		return def
	}
}

// TableOpt returns a table option, nil when unset.
func (o *Options) TableOpt(key string) *lua.LTable {
	switch v := o.Get(key).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LTable:
		return v
	default:
		o.typeError(key, "table", v)
		return nil
	}
}

// Strings returns an option that is a string or an array of strings.
func (o *Options) Strings(key string) []string {
	v := o.Get(key)
	out, err := StringList(v)
	if err != nil {
		o.typeError(key, "string or array of strings", v)
	}
	return out
}

// StringList converts a string or an array of strings (nil gives nil).
func StringList(v lua.LValue) ([]string, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LString:
		return []string{string(v)}, nil
	case *lua.LTable:
		var out []string
		n := v.Len()
		for i := 1; i <= n; i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				return nil, fmt.Errorf("element %d is not a string", i)
			}
			out = append(out, string(s))
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s is not a string", v.Type())
	}
}

// Duration returns a duration option: a number of seconds or a Go/docker
// duration string ("10m", "1h30m"). ok is false when unset.
func (o *Options) Duration(key string) (d time.Duration, ok bool) {
	v := o.Get(key)
	if v == lua.LNil {
		return 0, false
	}
	d, err := ParseDuration(v)
	if err != nil {
		o.L.ArgError(o.N, fmt.Sprintf("option %q: %v", key, err))
	}
	return d, true
}

// Time returns a time option as the docker CLI takes it: Unix seconds, RFC
// 3339, or a duration meaning that long before now ("10m"). ok is false when
// unset.
func (o *Options) Time(key string) (t time.Time, ok bool) {
	v := o.Get(key)
	if v == lua.LNil {
		return time.Time{}, false
	}
	t, err := ParseTime(v, time.Now())
	if err != nil {
		o.L.ArgError(o.N, fmt.Sprintf("option %q: %v", key, err))
	}
	return t, true
}

// ParseDuration reads seconds (number or numeric string) or a duration string.
func ParseDuration(v lua.LValue) (time.Duration, error) {
	switch v := v.(type) {
	case lua.LNumber:
		if v < 0 {
			return 0, fmt.Errorf("negative duration %v", v)
		}
		return time.Duration(float64(v) * float64(time.Second)), nil
	case lua.LString:
		s := strings.TrimSpace(string(v))
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
			return time.Duration(f * float64(time.Second)), nil
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("invalid duration %q (want seconds or e.g. \"10m\", \"1h30m\")", s)
		}
		return d, nil
	default:
		return 0, fmt.Errorf("duration expected, got %s", v.Type())
	}
}

// ParseTime reads Unix seconds, RFC 3339 (with or without zone), or a
// duration before now.
func ParseTime(v lua.LValue, now time.Time) (time.Time, error) {
	switch v := v.(type) {
	case lua.LNumber:
		return UnixTime(float64(v)), nil
	case lua.LString:
		s := strings.TrimSpace(string(v))
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return UnixTime(f), nil
		}
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(-d), nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("invalid time %q (want Unix seconds, RFC 3339, or a duration like \"10m\")", s)
	default:
		return time.Time{}, fmt.Errorf("time expected, got %s", v.Type())
	}
}

// UnixTime converts fractional Unix seconds to a time.
func UnixTime(sec float64) time.Time {
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9))
}

// Seconds converts a time to fractional Unix seconds (the API's time form).
func Seconds(t time.Time) lua.LNumber {
	return lua.LNumber(float64(t.UnixNano()) / 1e9)
}
