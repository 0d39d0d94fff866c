package top

import (
	"fmt"
	"strings"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
)

const (
	reverseVideo = "\x1b[7m"
	boldText     = "\x1b[1m"
	resetText    = "\x1b[0m"
)

// View is the screen: Height lines at most, none wider than Width.
// Everything a container wrote is escaped; colour only with Color.
func (m Model) View() string {
	var lines []string
	if m.DetailID != "" {
		lines = m.detailView()
	} else {
		lines = m.listView()
	}
	if m.Height > 0 && len(lines) > m.Height {
		lines = lines[:m.Height]
	}
	return strings.Join(lines, "\n")
}

// tableRows is how many container rows fit on the screen: all but the
// title, the table's header and the status line.
func (m Model) tableRows() int {
	if m.Height <= 0 {
		return 1 << 30
	}
	return max(1, m.Height-3)
}

func (m Model) listView() []string {
	rows := m.Visible()
	lines := []string{m.fit(m.title(len(rows)))}
	t := Table(rows)
	width := 0
	if m.Width > 2 {
		width = m.Width - 2
	}
	tl := t.Lines(tabular.Options{Human: true, Width: width})
	header := "  " + tl[0]
	if m.Color {
		header = boldText + header + resetText
	}
	lines = append(lines, header)
	cur := m.cursor(rows)
	first := m.first(cur, len(rows))
	for i := first; i < len(rows) && i < first+m.tableRows(); i++ {
		line := "  " + tl[i+1]
		if i == cur {
			line = "> " + tl[i+1]
			if m.Color {
				line = reverseVideo + tabular.Pad(line, m.Width, false) + resetText
			}
		}
		lines = append(lines, line)
	}
	if len(rows) == 0 {
		none := "  (no running containers)"
		if m.Filter != "" {
			none = "  (no running container matches " + luax.EscapeLine(m.Filter) + ")"
		}
		lines = append(lines, m.fit(none))
	}
	for len(lines) < m.Height-1 {
		lines = append(lines, "")
	}
	return append(lines, m.fit(m.status()))
}

// first is the first row shown: the selected one stays on the screen.
func (m Model) first(cur, n int) int {
	page := m.tableRows()
	first := 0
	if cur >= page {
		first = cur - page + 1
	}
	return min(first, max(0, n-page))
}

func (m Model) title(n int) string {
	s := fmt.Sprintf("ctrsh top  %s  %d containers (%s), every %s  sort: %s", m.Snap.At.Format("15:04:05"), n,
		m.Snap.Source, m.Interval, m.Sort)
	if m.Reverse {
		s += " (reversed)"
	}
	if m.Filter != "" && !m.Editing {
		s += "  filter: " + luax.EscapeLine(m.Filter)
	}
	return s
}

func (m Model) status() string {
	switch {
	case m.Editing:
		return "/" + luax.EscapeLine(m.Filter) + "_   (Enter keeps the filter, Esc drops it)"
	case m.Snap.Err != nil:
		return "! " + luax.EscapeLine(m.Snap.Err.Error()) + " (showing the containers last listed)"
	case m.Snap.Note != "":
		return "! " + luax.EscapeLine(m.Snap.Note)
	}
	return "c CPU  m memory  p pids  n name  / filter  ↑↓ select  Enter processes and logs  q quit"
}

// fit cuts a line to the width.
func (m Model) fit(s string) string {
	if m.Width > 0 {
		return tabular.Cut(s, m.Width)
	}
	return s
}
