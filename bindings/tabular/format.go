package tabular

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Nested is a cell holding what a table cannot show on one line (a table
// inside a record): it shows as {…}.
type Nested struct{}

// Text is a cell's text written as it is: the caller has escaped it.
type Text string

// cellText is how v shows in a column of kind k: its text, and whether it
// is a number (numbers are right-aligned). Values are nil (an empty cell),
// string (escaped here), Text, bool, Nested, or a number (float64, int,
// int64, uint64).
func cellText(k Kind, v any, human bool, now time.Time) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		if human && k == ID {
			return luax.EscapeLine(shortID(v)), false
		}
		return luax.EscapeLine(v), false
	case Text:
		return string(v), false
	case bool:
		return strconv.FormatBool(v), false
	case Nested:
		return "{…}", false
	}
	n, ok := number(v)
	if !ok {
		return luax.EscapeLine(fmt.Sprint(v)), false
	}
	if !human {
		return luax.FormatNumber(n), true
	}
	return Humanize(k, n, now), true
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}

// Humanize shows n as a value of kind k for people (see the package doc).
func Humanize(k Kind, n float64, now time.Time) string {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return luax.FormatNumber(n)
	}
	switch k {
	case Bytes:
		return Size(n)
	case Seconds:
		return Duration(n)
	case Millis:
		return Duration(n / 1e3)
	case Micros:
		return Duration(n / 1e6)
	case Nanos:
		return Duration(n / 1e9)
	case Percent:
		return strconv.FormatFloat(n, 'f', 1, 64) + "%"
	case Time:
		if n >= 1e9 {
			return Clock(luax.UnixTime(n), now)
		}
	}
	return Decimal(n)
}

// Decimal is n with two decimals at most: 12, 0.5, 3.14.
func Decimal(n float64) string {
	if n == math.Trunc(n) {
		return luax.FormatNumber(n)
	}
	s := strconv.FormatFloat(n, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

var sizeUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Size is a byte count in binary units: 512 B, 1.5 KiB, 12.3 MiB, 256 MiB.
func Size(n float64) string {
	neg := ""
	if n < 0 {
		neg, n = "-", -n
	}
	i := 0
	for n >= 1024 && i < len(sizeUnits)-1 {
		n /= 1024
		i++
	}
	switch {
	case i == 0:
		return neg + strconv.FormatFloat(n, 'f', 0, 64) + " B"
	case n < 100:
		return neg + strconv.FormatFloat(n, 'f', 1, 64) + " " + sizeUnits[i]
	}
	return neg + strconv.FormatFloat(n, 'f', 0, 64) + " " + sizeUnits[i]
}

// Duration is seconds for people: 0s, 250µs, 450ms, 12.3s, 5m03s, 2h05m, 3d04h.
func Duration(sec float64) string {
	neg := ""
	if sec < 0 {
		neg, sec = "-", -sec
	}
	var s string
	switch {
	case sec == 0:
		s = "0s"
	case sec < 1e-3:
		s = strconv.FormatFloat(sec*1e6, 'f', 0, 64) + "µs"
	case sec < 1:
		s = strconv.FormatFloat(sec*1e3, 'f', 0, 64) + "ms"
	case sec < 60:
		s = strconv.FormatFloat(sec, 'f', 1, 64) + "s"
	case sec < 3600:
		t := int64(sec)
		s = fmt.Sprintf("%dm%02ds", t/60, t%60)
	case sec < 86400:
		t := int64(sec) / 60
		s = fmt.Sprintf("%dh%02dm", t/60, t%60)
	default:
		t := int64(sec) / 3600
		s = fmt.Sprintf("%dd%02dh", t/24, t%24)
	}
	return neg + s
}

// Clock is t in local time: 15:04:05 on now's day, else 2006-01-02 15:04.
func Clock(t, now time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// shortID is the first 12 characters of an id of 32 hex digits or more.
func shortID(s string) string {
	if len(s) < 32 {
		return s
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return s
		}
	}
	return s[:12]
}
