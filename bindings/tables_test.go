package bindings_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/tabular"
)

// tabulate evaluates expr and renders its table form, humanised, at width.
func tabulate(t *testing.T, L *lua.LState, expr string, width int) (string, bool) {
	t.Helper()
	if err := L.DoString("return " + expr); err != nil {
		t.Fatal(err)
	}
	v := L.Get(-1)
	L.Pop(1)
	tb, ok := bindings.Tabulate(L, v)
	if !ok {
		return "", false
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	return tb.String(tabular.Options{Human: true, Noun: "rows", Width: width, Now: now}), true
}

func TestTabulateRecords(t *testing.T) {
	L, _ := newState(t, false)
	hourAgo := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC).Unix()
	got, ok := tabulate(t, L, `{
		{cmd = "sh -c 'x'", pid = 7, rss = 1536, labels = {app = "web"}, argv = {"sh", "-c", "x"}, empty = {}},
		{pid = 12, name = "db\27[2J", cpu_seconds = 0.25, time = `+strconv.FormatInt(hourAgo, 10)+`},
	}`, 0)
	if !ok {
		t.Fatal("an array of records is not a table")
	}
	// Lead keys first, text last; nested tables {…}, arrays their items;
	// sizes, durations and times for people; container text escaped.
	want := `    TIME  NAME       PID  ARGV     CPU_SECONDS  EMPTY  LABELS      RSS  CMD
                       7  sh -c x               {}     {…}     1.5 KiB  sh -c 'x'
11:00:00  db\x1b[2J   12                 250ms
(2 rows)
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, expr := range []string{`{}`, `{1, 2, 3}`, `{{1, 2}, {3}}`, `{{a = 1}, 2}`, `{{a = 1}, {[1] = 2}}`, `{a = {b = 1}}`, `"text"`, `{{a = 1}, proc.self()}`} {
		if _, ok := tabulate(t, L, expr, 0); ok {
			t.Errorf("%s shows as a table", expr)
		}
	}
}

// Arrays of ctrsh's userdata show their view's columns: proc.list() as ps.
func TestTabulateProcesses(t *testing.T) {
	L, _ := newState(t, false)
	got, ok := tabulate(t, L, `{proc.self(), proc.get(1)}`, 0)
	if !ok {
		t.Fatal("an array of Process is not a table")
	}
	lines := strings.Split(got, "\n")
	if h := strings.Join(strings.Fields(lines[0]), " "); !strings.HasPrefix(h, "PID PID_INSIDE PPID STATE THREADS RSS TIME STARTED") || !strings.HasSuffix(h, "COMM CMDLINE") {
		t.Errorf("header %q", h)
	}
	if f := strings.Fields(lines[1]); len(f) < 2 || f[0] != strconv.Itoa(os.Getpid()) {
		t.Errorf("first row %q, want ctrsh's own pid %d first", lines[1], os.Getpid())
	}
	if !strings.Contains(got, "(2 rows)") {
		t.Errorf("no row count:\n%s", got)
	}
	narrow, _ := tabulate(t, L, `{proc.self(), proc.get(1)}`, 60)
	for _, l := range strings.Split(strings.TrimSpace(narrow), "\n")[:3] {
		if tabular.Width(l) > 60 {
			t.Errorf("line wider than 60: %q", l)
		}
	}
	if !strings.Contains(narrow, "too wide to show: ") {
		t.Errorf("at 60 columns nothing was left out:\n%s", narrow)
	}
}

// journal.events{} rows show the columns of an event log, time first.
func TestTabulateJournalEvents(t *testing.T) {
	L, _ := newState(t, false)
	got, ok := tabulate(t, L, `{
		{time = 1796126400, source = "engine", type = "container", action = "die", name = "web", exit_code = 137,
		 id = "`+strings.Repeat("ab", 32)+`", oom_killed = false, attributes = {image = "busybox"}},
		{time = 1796126401, source = "kmsg", type = "container", action = "oom_kill", pid = 2543, comm = "tail"},
	}`, 0)
	if !ok {
		t.Fatal("journal events are not a table")
	}
	want := `    TIME  SOURCE  TYPE       ACTION    NAME  ID            EXIT  OOM_KILLED   PID  COMM  ATTRIBUTES
12:00:00  engine  container  die       web   abababababab   137  false                   {…}
12:00:01  kmsg    container  oom_kill                                        2543  tail
(2 rows)
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
