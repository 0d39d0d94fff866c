package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCRIFormatParse(t *testing.T) {
	ts := "2024-01-02T03:04:05.123456789Z"
	cases := []struct {
		line        string
		stream, msg string
		full, ok    bool
	}{
		{ts + " stdout F hello world", "stdout", "hello world", true, true},
		{ts + " stderr P part of a ", "stderr", "part of a ", false, true},
		{ts + " stdout F ", "stdout", "", true, true},
		{ts + " stdout F", "stdout", "", true, true}, // an empty line without its space
		{ts + " stdout F:x tagged", "stdout", "tagged", true, true},
		{"2024-01-02T03:04:05+02:00 stdout F zone", "stdout", "zone", true, true},
		{ts + " stdout F  two spaces", "stdout", " two spaces", true, true},
		{ts + " stdin F no such stream", "", "", false, false},
		{ts + " stdout X bad tag", "", "", false, false},
		{"yesterday stdout F bad time", "", "", false, false},
		{ts, "", "", false, false},
		{"", "", "", false, false},
	}
	for _, c := range cases {
		stream, tm, msg, full, ok := criFormat{}.parse([]byte(c.line))
		if ok != c.ok || stream != c.stream || string(msg) != c.msg || full != c.full {
			t.Errorf("parse(%q) = %q %q full=%v ok=%v, want %q %q full=%v ok=%v", c.line, stream, msg, full, ok, c.stream, c.msg, c.full, c.ok)
		}
		if ok && tm.IsZero() {
			t.Errorf("parse(%q): no time", c.line)
		}
	}
}

// criLine is one line of a CRI log file at second s after base.
func criLine(s int, stream, tag, msg string) string {
	t := time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC).Add(time.Duration(s) * time.Second)
	return fmt.Sprintf("%s %s %s %s\n", t.Format(time.RFC3339Nano), stream, tag, msg)
}

func writeFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

func criLog(path string) *logFile {
	return &logFile{path: path, format: criFormat{}, rotated: func() []string { return criRotated(path) }}
}

// readAll reads the lines of the CRI log at path as "stream line".
func readAll(t *testing.T, path string, o Options) []string {
	t.Helper()
	if !o.Stdout && !o.Stderr {
		o.Stdout, o.Stderr = true, true
	}
	rc, err := criLog(path).read(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := NewReader(rc, false, o.Grep)
	var out []string
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Time.IsZero() {
			t.Errorf("line %q: no time", l.Line)
		}
		out = append(out, l.Stream+" "+string(l.Line))
	}
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// Partial lines (P) are joined with what follows on the same stream, while
// the other stream's lines go on between them.
func TestCRIPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeFile(t, path,
		criLine(0, "stdout", "F", "first"),
		criLine(1, "stderr", "P", "a long "),
		criLine(2, "stdout", "F", "between"),
		criLine(3, "stderr", "P", "line in "),
		criLine(4, "stderr", "F", "three parts"),
		criLine(5, "stdout", "F", ""),
		criLine(6, "stdout", "P", "cut off at the end"),
	)
	eq(t, "all", readAll(t, path, Options{Tail: -1}), []string{
		"stdout first", "stdout between", "stderr a long line in three parts", "stdout ", "stdout cut off at the end",
	})
	eq(t, "stderr only", readAll(t, path, Options{Tail: -1, Stderr: true}), []string{"stderr a long line in three parts"})
	eq(t, "grep", readAll(t, path, Options{Tail: -1, Grep: regexp.MustCompile("long line")}), []string{"stderr a long line in three parts"})
	// tail counts log lines, not the file's: the joined line is one, the
	// parts still being written are one.
	eq(t, "tail 2", readAll(t, path, Options{Tail: 2}), []string{"stdout ", "stdout cut off at the end"})
	eq(t, "tail 3", readAll(t, path, Options{Tail: 3}), []string{"stderr a long line in three parts", "stdout ", "stdout cut off at the end"})
	eq(t, "tail 0", readAll(t, path, Options{Tail: 0}), nil)
	eq(t, "tail 100", readAll(t, path, Options{Tail: 100}), readAll(t, path, Options{Tail: -1}))
	// since and until select by the runtime's time of each line.
	since := time.Date(2024, 1, 2, 3, 4, 2, 0, time.UTC)
	until := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	eq(t, "since until", readAll(t, path, Options{Tail: -1, Since: since, Until: until}), []string{
		"stdout between", "stderr line in three parts", "stdout ",
	})
}

// Long lines: the runtime cuts them in 16 KiB parts; a part longer than
// the read buffer, and a line of many parts, come back whole.
func TestCRILongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	huge := strings.Repeat("x", 300<<10) // longer than the 256 KiB buffer, in one part
	var lines []string
	var want strings.Builder
	for i := range 40 { // 40 parts of 16 KiB: 640 KiB
		part := strings.Repeat(string(rune('a'+i%26)), 16<<10)
		want.WriteString(part)
		lines = append(lines, criLine(i, "stdout", "P", part))
	}
	lines = append(lines, criLine(41, "stdout", "F", "end"), criLine(42, "stderr", "F", huge), criLine(43, "stdout", "F", "after"))
	writeFile(t, path, lines...)
	got := readAll(t, path, Options{Tail: -1})
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3", len(got))
	}
	eq(t, "lines", []string{got[0][:20], got[1][:20], got[2]}, []string{"stdout " + strings.Repeat("a", 13), "stderr " + strings.Repeat("x", 13), "stdout after"})
	if got[0] != "stdout "+want.String()+"end" {
		t.Errorf("joined line: %d bytes, want %d", len(got[0]), len("stdout ")+want.Len()+3)
	}
	if got[1] != "stderr "+huge {
		t.Errorf("long part: %d bytes, want %d", len(got[1]), len(huge)+7)
	}
	eq(t, "tail 2", readAll(t, path, Options{Tail: 2}), []string{"stderr " + huge, "stdout after"})
	if tail := readAll(t, path, Options{Tail: 3}); len(tail) != 3 || tail[0] != got[0] {
		t.Errorf("tail 3: the first line is not the joined one")
	}

	// A container that never ends its line: parts are a line at MaxLine.
	defer func(n int) { MaxLine = n }(MaxLine)
	MaxLine = 64 << 10
	writeFile(t, path, lines[:10]...)
	for i, l := range readAll(t, path, Options{Tail: -1}) {
		if len(l) != len("stdout ")+64<<10 && i < 2 {
			t.Errorf("line %d of a line never ended: %d bytes, want MaxLine", i, len(l))
		}
	}
}

// Rotation as the kubelet does it: 0.log renamed to 0.log.TIMESTAMP, a new
// 0.log; older parts compressed. A tail reads into the newest uncompressed
// part; a follow goes on in the new file after the old one's last lines.
func TestCRIRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	writeFile(t, path+".20240102-030300.gz", "not text: compressed\n")
	writeFile(t, path+".20240102-030350", criLine(0, "stdout", "F", "r1"), criLine(1, "stdout", "F", "r2"))
	writeFile(t, path+".20240102-030355", criLine(2, "stdout", "F", "r3"), criLine(3, "stdout", "P", "r4 "))
	writeFile(t, path+".20240102-030356.tmp", "being compressed\n")
	writeFile(t, path, criLine(4, "stdout", "F", "joined"), criLine(5, "stdout", "F", "c1"))
	eq(t, "rotated parts, newest first", criRotated(path), []string{path + ".20240102-030355", path + ".20240102-030350"})
	eq(t, "tail 3", readAll(t, path, Options{Tail: 3}), []string{"stdout r3", "stdout r4 joined", "stdout c1"})
	eq(t, "tail 5", readAll(t, path, Options{Tail: 5}), []string{"stdout r1", "stdout r2", "stdout r3", "stdout r4 joined", "stdout c1"})
	eq(t, "tail 9", readAll(t, path, Options{Tail: 9}), readAll(t, path, Options{Tail: 5}))
	eq(t, "no tail: every uncompressed part", readAll(t, path, Options{Tail: -1}), readAll(t, path, Options{Tail: 5}))

	// follow: lines appended, then a rotation with a line written to the old
	// file just before it was renamed, then lines in the new file.
	defer func(d time.Duration) { FollowPoll = d }(FollowPoll)
	FollowPoll = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc, err := criLog(path).read(ctx, Options{Tail: 1, Follow: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := NewReader(rc, false, nil)
	next := func() string {
		l, err := r.Next()
		if err != nil {
			t.Fatalf("follow: %v", err)
		}
		return string(l.Line)
	}
	if got := next(); got != "c1" {
		t.Fatalf("follow: first line %q, want the tail c1", got)
	}
	appendFile(t, path, criLine(6, "stdout", "F", "c2"))
	if got := next(); got != "c2" {
		t.Errorf("follow: %q, want c2", got)
	}
	appendFile(t, path, criLine(7, "stdout", "P", "last of "), criLine(8, "stdout", "F", "the old file"))
	if err := os.Rename(path, path+".20240102-030410"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, criLine(9, "stderr", "F", "n1"))
	appendFile(t, path, criLine(10, "stdout", "F", "n2"))
	for _, want := range []string{"last of the old file", "n1", "n2"} {
		if got := next(); got != want {
			t.Errorf("follow across the rotation: %q, want %q", got, want)
		}
	}
	// Truncated in place (copytruncate): read again from its start.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	appendFile(t, path, criLine(11, "stdout", "F", "t1"))
	if got := next(); got != "t1" {
		t.Errorf("follow after truncation: %q, want t1", got)
	}
	// Close ends the follow.
	done := make(chan error, 1)
	go func() { _, err := r.Next(); done <- err }()
	rc.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("follow after close: a line")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end when closed")
	}
}

func TestCRIMissingLog(t *testing.T) {
	_, err := criLog(filepath.Join(t.TempDir(), "0.log")).read(context.Background(), Options{Tail: -1})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read of a missing log: %v, want not exist", err)
	}
	// A symlink is not followed: the log path's directory may be a pod's to write.
	dir := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "0.log")); err != nil {
		t.Fatal(err)
	}
	if _, err := criLog(filepath.Join(dir, "0.log")).read(context.Background(), Options{Tail: -1}); err == nil {
		t.Errorf("a symlinked log was opened")
	}
}

// Without follow, a tail (or the whole log) is the log as it was when
// read was called: lines a busy container writes before the reader gets
// to the end are not added (as the engine bounds docker logs --tail).
func TestReadEndsWhereTheLogWasAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	writeFile(t, path, criLine(0, "stdout", "F", "one"), criLine(1, "stderr", "F", "two"), criLine(2, "stdout", "F", "three"))
	for _, o := range []Options{{Tail: 2}, {Tail: -1}} {
		o.Stdout, o.Stderr = true, true
		rc, err := criLog(path).read(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, criLine(3, "stdout", "F", "later"), criLine(4, "stderr", "F", "later too"))
		r := NewReader(rc, false, nil)
		var got []string
		for {
			l, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(l.Line))
		}
		rc.Close()
		want := []string{"two", "three"}
		if o.Tail < 0 {
			want = []string{"one", "two", "three"}
		}
		eq(t, fmt.Sprintf("tail %d", o.Tail), got, want)
		writeFile(t, path, criLine(0, "stdout", "F", "one"), criLine(1, "stderr", "F", "two"), criLine(2, "stdout", "F", "three"))
	}
}
