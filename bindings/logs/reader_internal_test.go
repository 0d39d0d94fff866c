package logs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"regexp"
	"testing"
)

func frame(stream byte, s string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
	return append(h, s...)
}

func TestReaderMultiplexed(t *testing.T) {
	var b bytes.Buffer
	b.Write(frame(1, "2024-01-02T03:04:05.000000001Z first\n"))
	b.Write(frame(2, "2024-01-02T03:04:05.000000002Z part one "))
	b.Write(frame(1, "2024-01-02T03:04:05.000000003Z between\n"))
	b.Write(frame(2, "2024-01-02T03:04:05.000000004Z part two\n"))
	b.Write(frame(1, "2024-01-02T03:04:05.000000005Z bin\x00\xff\n"))
	b.Write(frame(1, "2024-01-02T03:04:05.000000006Z last, no newline"))
	r := NewReader(&b, false, nil)
	want := []struct{ stream, line string }{
		{"stdout", "first"}, {"stdout", "between"}, {"stderr", "part one part two"},
		{"stdout", "bin\x00\xff"}, {"stdout", "last, no newline"},
	}
	for i, w := range want {
		l, err := r.Next()
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if l.Stream != w.stream || string(l.Line) != w.line {
			t.Errorf("line %d = %s %q, want %s %q", i, l.Stream, l.Line, w.stream, w.line)
		}
		if l.Time.IsZero() {
			t.Errorf("line %d: no time", i)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("at the end: %v, want EOF", err)
	}
}

func TestReaderTTYAndGrep(t *testing.T) {
	in := "2024-01-02T03:04:05Z one\r\n2024-01-02T03:04:06Z two\r\n2024-01-02T03:04:07Z three\r\n"
	r := NewReader(bytes.NewBufferString(in), true, regexp.MustCompile("^t"))
	var got []string
	for {
		l, err := r.Next()
		if err != nil {
			break
		}
		got = append(got, l.Stream+":"+string(l.Line))
	}
	if len(got) != 2 || got[0] != "stdout:two" || got[1] != "stdout:three" {
		t.Errorf("got %q", got)
	}
}

func TestReaderBadFrame(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte{9, 0, 0, 0, 0, 0, 0, 1, 'x'}), false, nil)
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("bad header: %v", err)
	}
}
