package tabular

import (
	"strings"

	"github.com/mattn/go-runewidth"
)

// Width is how many terminal cells s takes (wide characters count two).
func Width(s string) int { return runewidth.StringWidth(s) }

// Cut shortens s to at most w cells, ending it with "…" when it was cut.
func Cut(s string, w int) string {
	if Width(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	return runewidth.Truncate(s, w, "…")
}

// Pad fills s with spaces to w cells: on the left when right is true.
func Pad(s string, w int, right bool) string {
	n := w - Width(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}
