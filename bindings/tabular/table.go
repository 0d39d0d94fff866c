package tabular

import (
	"fmt"
	"strings"
	"time"
)

// Column is one column of a Table.
type Column struct {
	Key    string // the record's key or a dotted path ("memory.usage")
	Header string // default: Key upper-cased
	Kind   Kind   // default: KindOf(Key), when Human
	// Priority orders what is left out when the table does not fit: the
	// highest first (the rightmost of equals first); from DropFirst up,
	// before any text is cut. 0 is kept longest.
	Priority int
	// Keep shows the column when every cell is empty (a live view whose
	// columns must not jump); otherwise such a column is left out.
	Keep bool
	// Varied shows the column only when its cells differ (RUNTIME: worth a
	// column on a host with two runtimes, not on one with one).
	Varied bool
	// Min is the narrowest a text column is cut to (default 8 cells, or
	// its natural width when smaller). Numbers are never cut.
	Min int
	// Kinded marks Kind as set (Plain included), so KindOf is not asked.
	Kinded bool
}

// Table is columns and rows of cells (see cellText for the values a cell
// may hold); a row shorter than the columns has empty cells at its end.
type Table struct {
	Columns []Column
	Rows    [][]any
}

// Options say how a table is shown.
type Options struct {
	Width int  // fit to this many terminal cells; 0: no limit
	Human bool // sizes, durations, times and percentages for people
	Color bool // the header in bold, the footer dim (ANSI)
	// Noun, when set, adds a footer: "(3 rows)", with Noun for "rows"
	// ("row" when there is one), and the columns left out.
	Noun string
	Now  time.Time // for times (today or another day); default time.Now()
	Gap  int       // spaces between columns; default 2
}

const (
	bold  = "\x1b[1m"
	dim   = "\x1b[2m"
	reset = "\x1b[0m"
)

// layout is a table formatted and measured.
type layout struct {
	cols    []Column
	cells   [][]string
	right   []bool
	widths  []int
	dropped []string
}

// Lines renders t: a header line, a line per row and the footer, without
// newlines. Cells are on one line each: control characters escaped.
func (t *Table) Lines(o Options) []string {
	if o.Gap == 0 {
		o.Gap = 2
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	l := t.format(o)
	l.fit(o.Width, o.Gap)
	out := make([]string, 0, len(l.cells)+2)
	header := l.line(headers(l.cols), o.Gap, true)
	if o.Color {
		header = bold + header + reset
	}
	out = append(out, header)
	for _, row := range l.cells {
		out = append(out, l.line(row, o.Gap, false))
	}
	if o.Noun != "" {
		f := footer(len(t.Rows), o.Noun, l.dropped)
		if o.Color {
			f = dim + f + reset
		}
		out = append(out, f)
	}
	return out
}

// String is Lines joined, each line ended by a newline.
func (t *Table) String(o Options) string {
	return strings.Join(t.Lines(o), "\n") + "\n"
}

// same reports whether every cell holds the same text.
func same(texts []string) bool {
	for _, t := range texts {
		if t != texts[0] {
			return false
		}
	}
	return true
}

func headers(cols []Column) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.Header
	}
	return h
}

func footer(n int, noun string, dropped []string) string {
	if n == 1 {
		noun = strings.TrimSuffix(noun, "s")
	}
	f := fmt.Sprintf("(%d %s", n, noun)
	if len(dropped) > 0 {
		f += "; too wide to show: " + strings.Join(dropped, ", ")
	}
	return f + ")"
}

// format turns every cell into text and leaves out empty columns.
func (t *Table) format(o Options) *layout {
	l := &layout{cells: make([][]string, len(t.Rows))}
	for ci, c := range t.Columns {
		if c.Header == "" {
			c.Header = strings.ToUpper(c.Key)
		}
		if !c.Kinded {
			c.Kind = KindOf(c.Key)
		}
		texts := make([]string, len(t.Rows))
		right, empty := true, true
		for ri, row := range t.Rows {
			var v any
			if ci < len(row) {
				v = row[ci]
			}
			s, num := cellText(c.Kind, v, o.Human, o.Now)
			texts[ri] = s
			if s != "" {
				empty = false
				right = right && num
			}
		}
		if empty && !c.Keep || c.Varied && same(texts) {
			continue
		}
		l.cols = append(l.cols, c)
		l.right = append(l.right, right && !empty)
		for ri, s := range texts {
			l.cells[ri] = append(l.cells[ri], s)
		}
	}
	return l
}

// line lays out one row (or the header) in the columns' widths.
func (l *layout) line(cells []string, gap int, header bool) string {
	var b strings.Builder
	for i, w := range l.widths {
		s := ""
		if i < len(cells) {
			s = Cut(cells[i], w)
		}
		if i > 0 {
			b.WriteString(strings.Repeat(" ", gap))
		}
		right := l.right[i]
		if i == len(l.widths)-1 && !right {
			b.WriteString(s)
			continue
		}
		b.WriteString(Pad(s, w, right))
	}
	return strings.TrimRight(b.String(), " ")
}
