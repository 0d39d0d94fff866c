package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// benchLog writes a json-file log of n lines as the engine writes them, the
// lines of make bench's log container (one stderr error line a thousand),
// and returns its path and the time of its first line.
func benchLog(b *testing.B, n int) (string, time.Time) {
	b.Helper()
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var buf []byte
	for i := range n {
		t := base.Add(time.Duration(i) * 7919 * time.Nanosecond)
		stream, msg := "stdout", fmt.Sprintf("line %d level=info msg=request served", i)
		if i%1000 == 999 {
			stream, msg = "stderr", fmt.Sprintf("line %d level=error msg=upstream timeout", i)
		}
		buf = fmt.Appendf(buf, `{"log":"%s\n","stream":"%s","time":"%s"}`+"\n", msg, stream, t.Format(time.RFC3339Nano))
	}
	p := filepath.Join(b.TempDir(), "bench-json.log")
	if err := os.WriteFile(p, buf, 0o600); err != nil {
		b.Fatal(err)
	}
	return p, base
}

// benchScan reads the log at p with s, b.N times, and reports the log's
// bytes per second (the whole file, whatever part of it s reads).
func benchScan(b *testing.B, p string, s func() *scan, want int) {
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		lf, err := openLogFiles(p)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := s().read(context.Background(), lf, func(l []Line) bool { n += len(l); return true }); err != nil {
			b.Fatal(err)
		}
		if n != want {
			b.Fatalf("%d lines, want %d", n, want)
		}
	}
}

// BenchmarkScanGrep is c:logs{grep="level=error"} over a 100,000-line log.
func BenchmarkScanGrep(b *testing.B) {
	p, _ := benchLog(b, 100000)
	re := regexp.MustCompile("level=error")
	benchScan(b, p, func() *scan {
		return &scan{grep: re, lits: requiredLiterals(re), stdout: true, stderr: true}
	}, 100)
}

// BenchmarkScanSinceUntil is c:logs{since=, until=} for 1% of a
// 100,000-line log, in its middle.
func BenchmarkScanSinceUntil(b *testing.B) {
	p, base := benchLog(b, 100000)
	since := base.Add(50000 * 7919 * time.Nanosecond)
	until := since.Add(999 * 7919 * time.Nanosecond)
	benchScan(b, p, func() *scan {
		return &scan{since: since, until: until, stdout: true, stderr: true, resetSince: true}
	}, 1000)
}

// BenchmarkScanAll is c:logs{} over a 100,000-line log: every line read.
func BenchmarkScanAll(b *testing.B) {
	p, _ := benchLog(b, 100000)
	benchScan(b, p, func() *scan { return &scan{stdout: true, stderr: true} }, 100000)
}
