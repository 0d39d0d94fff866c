package top

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/logs"
	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/bindings/tabular"
	"github.com/ctrsh/ctrsh/bindings/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files of the views")

var at = time.Date(2026, 12, 1, 12, 0, 5, 0, time.UTC)

const mib = 1 << 20

// snapshot is five containers as a Collector would give them.
func snapshot() Snapshot {
	row := func(name, id string, cpu float64, mem, limit, pids int64) Row {
		r := Row{ID: id + strings.Repeat("0", 64-len(id)), Name: name, Image: "ctrsh-test/busybox", Runtime: "docker", PID: 2500,
			CPUPercent: cpu, MemUsage: mem, MemLimit: limit, MemPercent: -1, Pids: pids, OOMKills: 0, Restarts: 0,
			NetRx: 1234, NetTx: 648, BlockRead: 4096, BlockWrite: 0}
		if limit > 0 {
			r.MemPercent = float64(mem) / float64(limit) * 100
		}
		return r
	}
	rows := []Row{
		row("web-1", "3f2a1c4d5e6f", 12.5, 40*mib, 64*mib, 3),
		row("web-2", "4a5b6c7d8e9f", 0.2, 12*mib, -1, 2),
		row("db", "5c6d7e8f9a0b", 55.1, 300*mib, 512*mib, 31),
		row("cache", "6e7f8a9b0c1d", -1, 8*mib, -1, 1),
		row("evil\x1b]0;PWNED\a", "7f8a9b0c1d2e", 1, 1*mib, -1, 1),
	}
	rows[2].OOMKills, rows[2].Restarts = 2, 1
	return Snapshot{Rows: rows, At: at, Source: "docker"}
}

func detail() *Detail {
	return &Detail{
		ID: snapshot().Rows[0].ID,
		Procs: []proc.TopRow{
			{PID: 2500, PIDInside: 1, PPID: 2480, User: "root", State: "S", RSS: 2 * mib, CPUSeconds: 1.5, Cmd: "nginx: master process"},
			{PID: 2533, PIDInside: 7, PPID: 2500, User: "nobody", State: "S", RSS: 5 * mib, CPUSeconds: 61, Cmd: "nginx: worker process"},
		},
		Logs: []logs.Line{
			{Stream: "stdout", Time: at.Add(-2 * time.Second), Line: []byte("GET / 200")},
			{Stream: "stderr", Time: at.Add(-time.Second), Line: []byte("\x1b[2Jcleared?")},
		},
		Execs: []trace.Event{{Time: at.Add(-3 * time.Second), PID: 2600, PIDInside: 9, Argv: []string{"/bin/sh", "-c", "curl localhost"}}},
	}
}

// model is the view of snapshot() on a width x height terminal.
func model(width, height int) Model {
	m := NewModel(Deps{}, time.Second, width, height, false)
	m, _ = m.Update(SnapshotMsg{snapshot()})
	return m
}

func keys(m Model, ks ...string) Model {
	for _, k := range ks {
		m, _ = m.Update(KeyMsg{k})
	}
	return m
}

// golden compares a view with testdata/NAME.golden (go test -update
// rewrites it).
func golden(t *testing.T, name, view string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(view+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if view+"\n" != string(want) {
		t.Errorf("%s: view\n%s\nwant\n%s", name, view, want)
	}
	for i, line := range strings.Split(view, "\n") {
		if w := tabular.Width(line); w > 100 {
			t.Errorf("%s: line %d is %d wide", name, i+1, w)
		}
	}
}

func TestViews(t *testing.T) {
	m := model(100, 14)
	golden(t, "list", m.View())
	golden(t, "list-80", model(80, 14).View())
	golden(t, "by-memory", keys(m, "m").View())
	golden(t, "by-name-reversed", keys(m, "n", "n").View())
	golden(t, "filter-typing", keys(m, "/", "w", "e", "b").View())
	golden(t, "filter-kept", keys(m, "/", "w", "e", "b", "enter", "down").View())
	m2 := keys(m, "m", "down", "enter")
	golden(t, "detail-loading", m2.View())
	m2, _ = m2.Update(DetailMsg{detail()})
	if m2.DetailID != snapshot().Rows[0].ID {
		t.Fatalf("Enter on the second row by memory opened %q, want web-1", m2.DetailID)
	}
	golden(t, "detail-short", m2.View())
	m2, _ = m2.Update(ResizeMsg{100, 24})
	golden(t, "detail", m2.View())
	m3 := snapshot()
	m3.Err = errors.New("docker engine unix:///var/run/docker.sock: not reachable: no answer within 2s")
	mm, _ := m.Update(SnapshotMsg{m3})
	golden(t, "engine-down", mm.View())
	m4 := snapshot()
	m4.Source, m4.Note = "docker, from disk", "containers from the engine's state on disk: docker engine unix:///var/run/docker.sock: not reachable: no answer within 2s"
	mm, _ = m.Update(SnapshotMsg{m4})
	golden(t, "from-disk", mm.View())
}

// Colour adds only escape codes: stripped, a coloured view is the plain
// one (the selected row padded to the width).
func TestColourOnlyAddsEscapes(t *testing.T) {
	plain := model(100, 14)
	colored := plain
	colored.Color = true
	ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	got := ansi.ReplaceAllString(colored.View(), "")
	if strings.Join(trimLines(got), "\n") != strings.Join(trimLines(plain.View()), "\n") {
		t.Errorf("colour changed the text:\n%s\nplain:\n%s", got, plain.View())
	}
	if strings.Contains(plain.View(), "\x1b") {
		t.Errorf("an escape code without colour: %q", plain.View())
	}
}

func trimLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

func TestKeys(t *testing.T) {
	m := model(100, 14)
	if rows := m.Visible(); rows[0].Name != "db" || rows[len(rows)-1].Name != "cache" {
		t.Errorf("by CPU: %s first, %s last; want db first and cache (unknown) last", rows[0].Name, rows[len(rows)-1].Name)
	}
	if m.Selected != m.Visible()[0].ID {
		t.Errorf("the first row is not selected")
	}
	for _, tc := range []struct {
		keys  []string
		first string
	}{
		{[]string{"m"}, "db"}, {[]string{"p"}, "db"}, {[]string{"n"}, "cache"}, {[]string{"n", "n"}, "web-2"},
		{[]string{"/", "W", "E", "b", "enter"}, "web-1"}, {[]string{"/", "w", "e", "b", "esc"}, "db"},
		{[]string{"/", "x", "backspace", "2", "enter"}, "web-2"}, {[]string{"/", "4", "a", "5", "b", "enter"}, "web-2"},
	} {
		got := keys(m, tc.keys...)
		if rows := got.Visible(); len(rows) == 0 || rows[0].Name != tc.first {
			t.Errorf("%q: first row %v, want %s", tc.keys, rows, tc.first)
		}
	}
	if got := keys(m, "/", "w", "e", "b", "enter"); len(got.Visible()) != 2 || got.Editing {
		t.Errorf("/web: %d rows, editing %v", len(got.Visible()), got.Editing)
	}
	if !keys(m, "q").Quit || !keys(m, "ctrl+c").Quit || !keys(m, "enter", "q").Quit || !keys(m, "/", "ctrl+c").Quit {
		t.Error("q or Ctrl-C does not quit")
	}
	if keys(m, "/", "q").Quit {
		t.Error("q typed in the filter quits")
	}
	if got := keys(m, "enter", "esc"); got.DetailID != "" {
		t.Error("Esc does not leave the detail")
	}
	if got := keys(m, "end"); got.Selected != got.Visible()[4].ID {
		t.Error("End does not select the last row")
	}
	if got := keys(m, "up", "down", "down", "up"); got.Selected != got.Visible()[1].ID {
		t.Error("Up and Down do not move the selection")
	}
}

// A refresh keeps the selection on its container, wherever it sorts to.
func TestSelectionFollowsTheContainer(t *testing.T) {
	m := keys(model(100, 14), "down") // web-1
	id := m.Selected
	s := snapshot()
	s.Rows[0].CPUPercent = 99
	m, cmds := m.Update(SnapshotMsg{s})
	if m.Selected != id || m.Visible()[0].ID != id {
		t.Errorf("selected %s, first %s; want web-1 both", m.Selected, m.Visible()[0].Name)
	}
	if len(cmds) != 1 {
		t.Errorf("a refresh starts %d Cmds, want 1 (the next tick)", len(cmds))
	}
	m = keys(m, "enter")
	_, cmds = m.Update(SnapshotMsg{s})
	if len(cmds) != 2 {
		t.Errorf("a refresh with the detail open starts %d Cmds, want 2 (tick, detail)", len(cmds))
	}
}

func TestParseKeys(t *testing.T) {
	got := ParseKeys([]byte("q\x1b[A\x1b[B\r\x7f\x03/é\x1b\x1b[5~\x1b[1;5C\x1bOAx"))
	want := []string{"q", "up", "down", "enter", "backspace", "ctrl+c", "/", "é", "esc", "pgup", "up", "x"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ParseKeys = %q, want %q", got, want)
	}
}
