package luax

import (
	"math"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestInteger(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want int
		ok   bool
	}{
		{0, 0, true}, {-3, -3, true}, {1 << 53, 1 << 53, true},
		{1.5, 0, false}, {math.NaN(), 0, false}, {math.Inf(1), 0, false}, {math.Inf(-1), 0, false},
		{1 << 60, 0, false}, {math.MaxFloat64, 0, false},
	} {
		got, ok := Integer(lua.LNumber(tc.v))
		if got != tc.want || ok != tc.ok {
			t.Errorf("Integer(%v) = %d, %v; want %d, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseDurationBounds(t *testing.T) {
	for _, tc := range []struct {
		v    lua.LValue
		want time.Duration
		err  string
	}{
		{lua.LNumber(1.5), 1500 * time.Millisecond, ""},
		{lua.LString("10m"), 10 * time.Minute, ""},
		{lua.LString(" 2 "), 2 * time.Second, ""},
		{lua.LNumber(maxSeconds), time.Duration(maxSeconds * float64(time.Second)), ""},
		{lua.LNumber(math.NaN()), 0, "invalid duration nan"},
		{lua.LNumber(-1), 0, "negative duration -1"},
		{lua.LNumber(math.Inf(1)), 0, "duration too long: inf"},
		{lua.LNumber(1e300), 0, "duration too long"},
		{lua.LString("1e400"), 0, `duration too long: "1e400"`},
		{lua.LString("NaN"), 0, `invalid duration "NaN"`},
		{lua.LString("-Inf"), 0, `invalid duration "-Inf"`},
		{lua.LString("-5m"), 0, `invalid duration "-5m"`},
		{lua.LString("9999999999h"), 0, `invalid duration "9999999999h"`},
		{lua.LBool(true), 0, "duration expected, got boolean"},
	} {
		got, err := ParseDuration(tc.v)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseDuration(%v) = %v, %v; want %v", tc.v, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseDuration(%v) = %v, %v; want an error containing %q", tc.v, got, err, tc.err)
		}
		if got < 0 {
			t.Errorf("ParseDuration(%v) = %v: negative", tc.v, got)
		}
	}
}

func TestParseTimeBounds(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    lua.LValue
		want time.Time
		err  string
	}{
		{lua.LNumber(1.7e9), time.Unix(1.7e9, 0), ""},
		{lua.LString("10m"), now.Add(-10 * time.Minute), ""},
		{lua.LNumber(maxUnix), time.Unix(maxUnix, 0), ""},
		{lua.LNumber(minUnix), time.Unix(minUnix, 0), ""},
		{lua.LNumber(maxUnix + 1), time.Time{}, "time out of range: 253402300800"},
		{lua.LNumber(math.NaN()), time.Time{}, "invalid time nan"},
		{lua.LNumber(math.Inf(-1)), time.Time{}, "time out of range: -inf"},
		{lua.LString("Inf"), time.Time{}, `invalid time "Inf"`},
		{lua.LString("1e300"), time.Time{}, `time out of range: "1e300"`},
	} {
		got, err := ParseTime(tc.v, now)
		if tc.err == "" {
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("ParseTime(%v) = %v, %v; want %v", tc.v, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseTime(%v) = %v, %v; want an error containing %q", tc.v, got, err, tc.err)
		}
	}
}
