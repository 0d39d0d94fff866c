package tabular

// defaultMin is the narrowest a text column is cut to.
const defaultMin = 8

// DropFirst is the Column.Priority from which columns are left out before
// any text is cut: an id or a count matters less than a name read whole.
const DropFirst = 3

// fit sets the columns' widths: each its widest cell (or header). When
// that is wider than width, columns of priority DropFirst and up are left
// out first (highest first), then text is cut down to a common cap (the
// widest first), and when even cut text does not fit, more columns go.
func (l *layout) fit(width, gap int) {
	natural := make([]int, len(l.cols))
	for i, c := range l.cols {
		natural[i] = Width(c.Header)
		for _, row := range l.cells {
			if w := Width(row[i]); w > natural[i] {
				natural[i] = w
			}
		}
	}
	l.widths = natural
	if width <= 0 {
		return
	}
	gaps := func() int { return gap * (len(l.cols) - 1) }
	for len(l.cols) > 1 && sum(natural)+gaps() > width && l.top() >= DropFirst {
		natural = l.drop(natural)
	}
	for len(l.cols) > 1 && sum(l.mins(natural))+gaps() > width {
		natural = l.drop(natural)
	}
	l.widths = l.capped(natural, width-gap*(len(l.cols)-1))
}

// mins is the narrowest each column may be.
func (l *layout) mins(natural []int) []int {
	m := make([]int, len(natural))
	for i, c := range l.cols {
		m[i] = natural[i]
		if l.right[i] {
			continue
		}
		min := c.Min
		if min == 0 {
			min = defaultMin
		}
		if min < m[i] {
			m[i] = min
		}
	}
	return m
}

// top is the highest priority of the columns.
func (l *layout) top() int {
	p := 0
	for _, c := range l.cols {
		p = max(p, c.Priority)
	}
	return p
}

// drop leaves out the column of highest priority, the rightmost of equals.
func (l *layout) drop(natural []int) []int {
	d := len(l.cols) - 1
	for i := len(l.cols) - 1; i >= 0; i-- {
		if l.cols[i].Priority > l.cols[d].Priority {
			d = i
		}
	}
	l.dropped = append(l.dropped, l.cols[d].Header)
	l.cols = append(l.cols[:d:d], l.cols[d+1:]...)
	l.right = append(l.right[:d:d], l.right[d+1:]...)
	for r, row := range l.cells {
		l.cells[r] = append(row[:d:d], row[d+1:]...)
	}
	return append(natural[:d:d], natural[d+1:]...)
}

// capped cuts text columns to the largest common cap at which all fit in
// room (never below their minimum).
func (l *layout) capped(natural []int, room int) []int {
	mins := l.mins(natural)
	widths := func(cap int) []int {
		w := make([]int, len(natural))
		for i := range natural {
			w[i] = natural[i]
			if !l.right[i] && w[i] > cap {
				w[i] = max(cap, mins[i])
			}
		}
		return w
	}
	if sum(natural) <= room {
		return natural
	}
	lo, hi := 0, 0
	for _, n := range natural {
		hi = max(hi, n)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if sum(widths(mid)) <= room {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return widths(lo)
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
