package top

import (
	"fmt"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
)

// detailView is one container: its figures, processes, last log lines
// and last execs.
func (m Model) detailView() []string {
	r, ok := m.detailRow()
	if !ok {
		return m.padStatus([]string{m.fit("ctrsh top  the container is gone"), ""}, "Esc back  q quit")
	}
	lines := []string{
		m.fit(fmt.Sprintf("ctrsh top  %s  %s  %s  pid %d", luax.EscapeLine(r.Name), short(r.ID), luax.EscapeLine(r.Image), r.PID)),
		m.fit(figures(r)),
		"",
	}
	d := m.Detail
	if d == nil {
		return m.padStatus(append(lines, "loading…"), "Esc back  q quit")
	}
	room := max(4, m.Height-len(lines)-DetailLogLines-DetailExecs-8)
	lines = append(lines, m.section("PROCESSES", d.ProcsErr)...)
	lines = append(lines, m.procLines(d, room)...)
	lines = append(lines, "", boldIf(m.Color, "LAST LOG LINES"))
	lines = append(lines, m.logLines(d)...)
	lines = append(lines, "", boldIf(m.Color, "LAST EXECS"))
	lines = append(lines, m.execLines(d)...)
	return m.padStatus(lines, "Esc back  q quit")
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// figures is the container's line of figures.
func figures(r Row) string {
	val := func(k tabular.Kind, v float64) string {
		if v < 0 {
			return "-"
		}
		return tabular.Humanize(k, v, time.Time{})
	}
	mem := "MEM " + val(tabular.Bytes, float64(r.MemUsage))
	if r.MemLimit >= 0 {
		mem += " / " + val(tabular.Bytes, float64(r.MemLimit)) + " (" + val(tabular.Percent, r.MemPercent) + ")"
	}
	return strings.Join([]string{
		"CPU " + val(tabular.Percent, r.CPUPercent), mem,
		"PIDS " + val(tabular.Plain, float64(r.Pids)), "OOM " + val(tabular.Plain, float64(r.OOMKills)),
		"RESTARTS " + val(tabular.Plain, float64(r.Restarts)),
		"NET " + val(tabular.Bytes, float64(r.NetRx)) + " in / " + val(tabular.Bytes, float64(r.NetTx)) + " out",
		"BLOCK " + val(tabular.Bytes, float64(r.BlockRead)) + " read / " + val(tabular.Bytes, float64(r.BlockWrite)) + " written",
	}, "  ")
}

func boldIf(color bool, s string) string {
	if color {
		return boldText + s + resetText
	}
	return s
}

// section is a heading, with the error that left it empty.
func (m Model) section(name string, err error) []string {
	out := []string{boldIf(m.Color, name)}
	if err != nil {
		out = append(out, m.fit("  "+luax.EscapeLine(err.Error())))
	}
	return out
}

// procLines is the process table, room lines at most.
func (m Model) procLines(d *Detail, room int) []string {
	cols := []tabular.Column{
		{Key: "pid", Header: "PID", Kinded: true}, {Key: "pid_inside", Header: "PID_INSIDE", Kinded: true},
		{Key: "ppid", Header: "PPID", Kinded: true, Priority: 3}, {Key: "user", Header: "USER", Kinded: true, Priority: 1},
		{Key: "state", Header: "STATE", Kinded: true, Priority: 2}, {Key: "rss", Header: "RSS", Kind: tabular.Bytes, Kinded: true, Priority: 1},
		{Key: "time", Header: "TIME", Kind: tabular.Seconds, Kinded: true, Priority: 1}, {Key: "cmd", Header: "CMD", Kinded: true, Min: 24},
	}
	t := &tabular.Table{Columns: cols}
	for _, p := range d.Procs {
		t.Rows = append(t.Rows, []any{p.PID, p.PIDInside, p.PPID, p.User, p.State, p.RSS, p.CPUSeconds, p.Cmd})
	}
	if len(t.Rows) == 0 {
		return nil
	}
	tl := t.Lines(tabular.Options{Human: true, Width: max(0, m.Width-2), Noun: "processes"})
	for i := range tl {
		tl[i] = "  " + tl[i]
	}
	if len(tl) > room {
		tl = append(tl[:room-1], fmt.Sprintf("  … %d processes in all", len(d.Procs)))
	}
	return tl
}

func (m Model) logLines(d *Detail) []string {
	if d.LogsErr != nil {
		return []string{m.fit("  " + luax.EscapeLine(d.LogsErr.Error()))}
	}
	if len(d.Logs) == 0 {
		return []string{"  (none)"}
	}
	var out []string
	for _, l := range d.Logs {
		out = append(out, m.fit(fmt.Sprintf("  %s %-6s %s", stamp(l.Time, m.Snap.At.Location()), l.Stream, luax.EscapeLine(string(l.Line)))))
	}
	return out
}

func (m Model) execLines(d *Detail) []string {
	if d.ExecsNote != "" {
		return []string{m.fit("  (" + luax.EscapeLine(d.ExecsNote) + ")")}
	}
	if len(d.Execs) == 0 {
		return []string{"  (none seen since ctrsh top started)"}
	}
	var out []string
	for _, e := range d.Execs {
		cmd := strings.Join(e.Argv, " ")
		if cmd == "" {
			cmd = e.Filename
		}
		out = append(out, m.fit(fmt.Sprintf("  %s  pid %d (inside %d)  %s", stamp(e.Time, m.Snap.At.Location()), e.PID, e.PIDInside, luax.EscapeLine(cmd))))
	}
	return out
}

// padStatus fits the lines to the screen (cut, or filled) and ends them
// with the status line.
func (m Model) padStatus(lines []string, status string) []string {
	if m.Height > 0 && len(lines) > m.Height-1 {
		lines = lines[:max(0, m.Height-1)]
	}
	for len(lines) < m.Height-1 {
		lines = append(lines, "")
	}
	return append(lines, m.fit(status))
}
