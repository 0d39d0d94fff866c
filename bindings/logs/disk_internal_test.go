package logs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTailOffset(t *testing.T) {
	for _, c := range []struct {
		content string
		n       int
		off     int64
		got     int
	}{
		{"", 3, 0, 0},
		{"a\nb\nc\n", 0, 6, 0},
		{"a\nb\nc\n", 1, 4, 1},
		{"a\nb\nc\n", 2, 2, 2},
		{"a\nb\nc\n", 3, 0, 3},
		{"a\nb\nc\n", 5, 0, 3},
		{"a\nb\nc", 1, 4, 1},  // a last line the engine is still writing
		{"a\n\nc\n", 2, 2, 2}, // an empty line counts
		{"x\n", 1, 0, 1},
	} {
		p := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		off, got, err := tailOffset(f, c.n)
		f.Close()
		if err != nil || off != c.off || got != c.got {
			t.Errorf("tailOffset(%q, %d) = %d, %d, %v; want %d, %d", c.content, c.n, off, got, err, c.off, c.got)
		}
	}
}
