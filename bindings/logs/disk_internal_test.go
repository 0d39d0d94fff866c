package logs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// plainLines is a log format whose every line is a full message.
type plainLines struct{}

func (plainLines) parse(line []byte) (string, time.Time, []byte, bool, bool) {
	return "stdout", time.Unix(1, 0), line, true, true
}

func TestTailStart(t *testing.T) {
	for _, c := range []struct {
		content string
		n       int
		off     int64
	}{
		{"", 3, 0},
		{"a\nb\nc\n", 0, 6},
		{"a\nb\nc\n", 1, 4},
		{"a\nb\nc\n", 2, 2},
		{"a\nb\nc\n", 3, 0},
		{"a\nb\nc\n", 5, 0},
		{"a\nb\nc", 1, 4},  // a last line the engine is still writing
		{"a\n\nc\n", 2, 2}, // an empty line counts
		{"x\n", 1, 0},
	} {
		p := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		i, off, skip, err := tailStart([]*os.File{f}, -1, c.n, plainLines{})
		f.Close()
		if err != nil || i != 0 || off != c.off || skip != 0 {
			t.Errorf("tailStart(%q, %d) = %d, %d, %d, %v; want 0, %d, 0", c.content, c.n, i, off, skip, err, c.off)
		}
	}
}
