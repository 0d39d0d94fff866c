package luax

import (
	"errors"
	"fmt"
	"math"
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
		L.ArgError(n, "table expected, got "+TypeName(L, n))
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

// Number returns a number option, def when unset. NaN and the infinities
// raise: no option counts in them.
func (o *Options) Number(key string, def float64) float64 {
	switch v := o.Get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			o.L.ArgError(o.N, fmt.Sprintf("option %q: finite number expected, got %s", key, numString(f)))
		}
		return float64(v)
	default:
		o.typeError(key, "number", v)
		return def
	}
}

// Int returns an integer option, def when unset. A number with a fraction,
// NaN, or one beyond what an int holds raises (never truncated: tail=1.5 is
// a mistake, not one line).
func (o *Options) Int(key string, def int) int {
	switch v := o.Get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		i, ok := Integer(v)
		if !ok {
			o.L.ArgError(o.N, fmt.Sprintf("option %q: integer expected, got %s", key, numString(float64(v))))
		}
		return i
	default:
		o.typeError(key, "integer", v)
		return def
	}
}

// numString shows a number in a message as Lua code would write it: nan,
// inf, 1.5, 12.
func numString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return FormatNumber(f)
}

// Integer converts a Lua number to an int when it is one exactly: no
// fraction, not NaN, within ±2^53 (where every integer is a float64).
func Integer(v lua.LNumber) (int, bool) {
	f := float64(v)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false // NaN fails the first test, ±Inf the second
	}
	return int(f), true
}

// CheckInteger returns argument n as an integer, raising Lua's standard
// argument error for anything else: `bad argument #2 to 'mkdir' (integer
// expected, got 1.5)`.
func CheckInteger(L *lua.LState, n int) int {
	v, ok := L.Get(n).(lua.LNumber)
	if !ok {
		L.ArgError(n, "integer expected, got "+TypeName(L, n))
	}
	i, ok := Integer(v)
	if !ok {
		L.ArgError(n, "integer expected, got "+numString(float64(v)))
	}
	return i
}

// OptInteger is CheckInteger with def for an absent or nil argument.
func OptInteger(L *lua.LState, n int, def int) int {
	if L.Get(n) == lua.LNil {
		return def
	}
	return CheckInteger(L, n)
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

// ParseDuration reads seconds (number or numeric string) or a duration
// string. NaN, negative durations and those longer than a time.Duration
// holds (about 292 years) are errors, never wrapped or truncated.
func ParseDuration(v lua.LValue) (time.Duration, error) {
	switch v := v.(type) {
	case lua.LNumber:
		return secondsDuration(float64(v), numString(float64(v)))
	case lua.LString:
		s := strings.TrimSpace(string(v))
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case err == nil && !math.IsNaN(f) && !math.IsInf(f, 0):
			return secondsDuration(f, strconv.Quote(s))
		case errors.Is(err, strconv.ErrRange) && f > 0:
			return 0, fmt.Errorf("duration too long: %q", s)
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

// maxSeconds is the longest duration in seconds, as a float that converts
// back without overflow.
const maxSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

func secondsDuration(f float64, shown string) (time.Duration, error) {
	switch {
	case math.IsNaN(f):
		return 0, fmt.Errorf("invalid duration nan (want seconds or e.g. \"10m\", \"1h30m\")")
	case f < 0:
		return 0, fmt.Errorf("negative duration %s", shown)
	case f > maxSeconds:
		return 0, fmt.Errorf("duration too long: %s seconds (at most %.0f)", shown, maxSeconds)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// ParseTime reads Unix seconds, RFC 3339 (with or without zone), or a
// duration before now. Times outside years 1 to 9999 (and NaN) are errors.
func ParseTime(v lua.LValue, now time.Time) (time.Time, error) {
	switch v := v.(type) {
	case lua.LNumber:
		return secondsTime(float64(v), numString(float64(v)))
	case lua.LString:
		s := strings.TrimSpace(string(v))
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return secondsTime(f, strconv.Quote(s))
		}
		if d, err := time.ParseDuration(s); err == nil {
			return checkTimeRange(now.Add(-d), strconv.Quote(s))
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

// The range of times options take: years 1 to 9999, as RFC 3339 writes them.
const (
	minUnix = -62135596800 // 0001-01-01T00:00:00Z
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

func secondsTime(f float64, shown string) (time.Time, error) {
	if math.IsNaN(f) {
		return time.Time{}, fmt.Errorf("invalid time nan (want Unix seconds, RFC 3339, or a duration like \"10m\")")
	}
	if f < minUnix || f > maxUnix {
		return time.Time{}, fmt.Errorf("time out of range: %s (want years 1 to 9999)", shown)
	}
	return UnixTime(f), nil
}

func checkTimeRange(t time.Time, shown string) (time.Time, error) {
	if u := t.Unix(); u < minUnix || u > maxUnix {
		return time.Time{}, fmt.Errorf("time out of range: %s (want years 1 to 9999)", shown)
	}
	return t, nil
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
