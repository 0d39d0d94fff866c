package tabular

import (
	"strings"
	"testing"
	"time"
)

func TestKindOf(t *testing.T) {
	for key, want := range map[string]Kind{
		"rss": Bytes, "rx_bytes": Bytes, "net.tx_bytes": Bytes, "memory.usage": Bytes, "memory.limit": Bytes,
		"pids.limit": Plain, "limit": Plain, "mem_usage": Bytes, "memory_limit": Bytes, "working_set": Bytes,
		"cpu_seconds": Seconds, "cpu.usage_ns": Nanos, "throttled_usec": Micros, "latency_ms": Millis,
		"time": Time, "created": Time, "start_time": Time, "started_at": Time,
		"cpu.percent": Percent, "mem_percent": Percent, "pct_of_limit": Plain,
		"id": ID, "container_id": ID, "pid": Plain, "name": Plain, "oom_kills": Plain,
	} {
		if got := KindOf(key); got != want {
			t.Errorf("KindOf(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestHumanize(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		k    Kind
		n    float64
		want string
	}{
		{Bytes, 0, "0 B"}, {Bytes, 512, "512 B"}, {Bytes, 1536, "1.5 KiB"}, {Bytes, 12.3 * 1024 * 1024, "12.3 MiB"},
		{Bytes, 256 * 1024 * 1024, "256 MiB"}, {Bytes, 3 << 30, "3.0 GiB"},
		{Seconds, 0, "0s"}, {Seconds, 0.00025, "250µs"}, {Seconds, 0.45, "450ms"}, {Seconds, 12.34, "12.3s"},
		{Seconds, 303, "5m03s"}, {Seconds, 7500, "2h05m"}, {Seconds, 4*86400 + 3600*4, "4d04h"},
		{Nanos, 1.5e9, "1.5s"}, {Micros, 2e6, "2.0s"}, {Millis, 450, "450ms"},
		{Percent, 12.345, "12.3%"}, {Plain, 0.5, "0.5"}, {Plain, 3.14159, "3.14"}, {Plain, 42, "42"},
		{Time, float64(now.Add(-time.Hour).Unix()), "11:00:00"},
		{Time, float64(now.Add(-48 * time.Hour).Unix()), "2026-11-29 12:00"},
		{Time, 5, "5"},
	} {
		if got := Humanize(tc.k, tc.n, now); got != tc.want {
			t.Errorf("Humanize(%d, %v) = %q, want %q", tc.k, tc.n, got, tc.want)
		}
	}
}

func TestOrderKeys(t *testing.T) {
	got := OrderKeys([]string{"cmd", "state", "pid_inside", "rss", "pid", "comm", "name", "time", "line"})
	want := "time name pid pid_inside comm rss state cmd line"
	if strings.Join(got, " ") != want {
		t.Errorf("OrderKeys = %q, want %q", strings.Join(got, " "), want)
	}
}

func topTable() *Table {
	return &Table{
		Columns: []Column{{Key: "pid"}, {Key: "pid_inside"}, {Key: "rss"}, {Key: "cpu_seconds"}, {Key: "state"}, {Key: "labels"}, {Key: "cmd"}},
		Rows: [][]any{
			{2543, 1, 1 << 20, 0.03, "S", nil, "sh -c while true; do sleep 1; done"},
			{2600, 7, uint64(12 * 1024 * 1024), 125.5, "R", Nested{}, "/usr/bin/python3 -m http.server 8080 --bind 127.0.0.1"},
		},
	}
}

func TestLinesHuman(t *testing.T) {
	got := topTable().String(Options{Human: true, Noun: "rows"})
	want := ` PID  PID_INSIDE       RSS  CPU_SECONDS  STATE  LABELS  CMD
2543           1   1.0 MiB         30ms  S              sh -c while true; do sleep 1; done
2600           7  12.0 MiB        2m05s  R      {…}     /usr/bin/python3 -m http.server 8080 --bind 127.0.0.1
(2 rows)
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLinesExactAndEmptyColumns(t *testing.T) {
	tb := topTable()
	tb.Rows[1][5] = nil // every LABELS cell empty: the column goes
	got := tb.String(Options{})
	want := ` PID  PID_INSIDE       RSS  CPU_SECONDS  STATE  CMD
2543           1   1048576         0.03  S      sh -c while true; do sleep 1; done
2600           7  12582912        125.5  R      /usr/bin/python3 -m http.server 8080 --bind 127.0.0.1
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// No line but the footer is wider than asked: text is cut with …, and
// columns go, the rightmost first, the footer naming them.
func TestLinesFit(t *testing.T) {
	for _, width := range []int{60, 45, 30, 10} {
		lines := topTable().Lines(Options{Human: true, Noun: "rows", Width: width})
		for _, l := range lines[:len(lines)-1] { // the footer may wrap
			if w := Width(l); w > width {
				t.Errorf("width %d: line %q is %d wide", width, l, w)
			}
		}
		t.Logf("width %d:\n%s", width, strings.Join(lines, "\n"))
	}
	// LABELS goes first; then CMD is cut to what is left.
	tb := topTable()
	tb.Columns[5].Priority = 1
	got := tb.String(Options{Human: true, Noun: "rows", Width: 60})
	want := ` PID  PID_INSIDE       RSS  CPU_SECONDS  STATE  CMD
2543           1   1.0 MiB         30ms  S      sh -c while…
2600           7  12.0 MiB        2m05s  R      /usr/bin/py…
(2 rows; too wide to show: LABELS)
`
	if got != want {
		t.Errorf("width 60: got\n%s\nwant\n%s", got, want)
	}
}

func TestPriorityDropsFirst(t *testing.T) {
	tb := &Table{
		Columns: []Column{{Key: "name"}, {Key: "id", Priority: 5}, {Key: "cpu"}, {Key: "block", Priority: 2}},
		Rows:    [][]any{{"web", "3f2a1c4d5e6f", 1.5, 100}},
	}
	got := tb.String(Options{Width: 24, Noun: "containers"})
	want := "NAME  CPU  BLOCK\nweb   1.5    100\n(1 container; too wide to show: ID)\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Container text is escaped in cells, wide characters are measured, and
// colour is only where asked.
func TestCellsEscapedAndMeasured(t *testing.T) {
	tb := &Table{
		Columns: []Column{{Key: "name"}, {Key: "n"}},
		Rows:    [][]any{{"\x1b]0;PWNED\a", 1}, {"日本語", 22}, {"a\nb", 3}},
	}
	got := tb.String(Options{})
	want := "NAME             N\n\\x1b]0;PWNED\\a   1\n日本語          22\na\\nb             3\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("an escape code without Color: %q", got)
	}
	colored := tb.String(Options{Color: true, Noun: "rows"})
	if !strings.HasPrefix(colored, bold+"NAME") || !strings.Contains(colored, dim+"(3 rows)"+reset) {
		t.Errorf("Color: %q", colored)
	}
}

func TestShortIDOnlyWhenHuman(t *testing.T) {
	id := "3f2a1c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"
	tb := &Table{Columns: []Column{{Key: "id"}}, Rows: [][]any{{id}}}
	if got := tb.String(Options{Human: true}); got != "ID\n3f2a1c4d5e6f\n" {
		t.Errorf("human: %q", got)
	}
	if got := tb.String(Options{}); got != "ID\n"+id+"\n" {
		t.Errorf("exact: %q", got)
	}
}

// A Varied column shows only when its cells differ.
func TestVariedColumn(t *testing.T) {
	cols := []Column{{Key: "name"}, {Key: "runtime", Varied: true}}
	one := &Table{Columns: cols, Rows: [][]any{{"web", "docker"}, {"db", "docker"}}}
	two := &Table{Columns: cols, Rows: [][]any{{"web", "docker"}, {"app", "containerd"}}}
	if got := one.String(Options{}); got != "NAME\nweb\ndb\n" {
		t.Errorf("one runtime: %q", got)
	}
	if got := two.String(Options{}); got != "NAME  RUNTIME\nweb   docker\napp   containerd\n" {
		t.Errorf("two runtimes: %q", got)
	}
}
