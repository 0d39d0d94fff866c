package logs

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Messages the generated logs are made of: plain text, and text that the
// engine's JSON escapes (quotes, backslashes, <>&, control characters,
// invalid UTF-8, \r of a TTY) or writes as UTF-8 (é).
var genMessages = []string{
	"line level=info msg=request served", "line level=error msg=upstream timeout",
	"out 9999", "err 99", "abc", "a\"b\"c level=error", `back\slash level=error`, "<b>level=error</b> & more",
	"caf\u00e9 level=\u00e9rror", "tab\there level=error", "bad \xff\xfe utf8 level=error", "crlf level=error\r",
	"LEVEL=ERROR upper", "", "level=", "=error", "xlevel=errorx", "\u2028 line separator",
}

type genMsg struct {
	stream string
	log    string
	t      time.Time
}

// genLog writes n random messages (some parts of long lines, a few torn
// or foreign lines) to files oldest first, in time order but for jitter.
func genLog(t *testing.T, rng *rand.Rand, n, files int) []string {
	dir := t.TempDir()
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var bufs = make([]bytes.Buffer, files)
	for i := 0; i < n; i++ {
		m := genMsg{stream: "stdout", log: genMessages[rng.Intn(len(genMessages))], t: base.Add(time.Duration(i) * time.Millisecond)}
		if rng.Intn(3) == 0 {
			m.stream = "stderr"
		}
		if rng.Intn(10) == 0 {
			m.t = m.t.Add(time.Duration(rng.Intn(20)-10) * time.Millisecond) // out of order a little
		}
		if rng.Intn(8) != 0 {
			m.log += "\n" // else a part of a long line
		}
		b := &bufs[i*files/n]
		switch rng.Intn(50) {
		case 0:
			b.WriteString(`{"log":"torn`) // a line cut while written
		case 1:
			l, _ := json.Marshal(m.log)
			fmt.Fprintf(b, `{"log":%s,"stream":%q,"attrs":{"a":"b"},"time":%q}`, l, m.stream, m.t.Format(time.RFC3339Nano))
		default:
			j, _ := json.Marshal(struct {
				Log    string    `json:"log"`
				Stream string    `json:"stream"`
				Time   time.Time `json:"time"`
			}{m.log, m.stream, m.t})
			b.Write(j)
		}
		b.WriteByte('\n')
	}
	var paths []string
	for i := range bufs {
		p := filepath.Join(dir, fmt.Sprintf("part%d", i))
		if err := os.WriteFile(p, bufs[i].Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// refRead is what the engine and Reader make of the log: every message
// decoded by encoding/json, cut by since and until as the engine cuts,
// then framed and read by Reader (parts joined, grep).
func refRead(t *testing.T, paths []string, s *scan) []Line {
	var frames bytes.Buffer
	sinceOpen := !s.since.IsZero()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			stream, ts, msg, full, ok := jsonFormat{trimCR: s.trimCR}.parse(line)
			if !ok {
				continue
			}
			if sinceOpen {
				if ts.Before(s.since) {
					continue
				}
				sinceOpen = !s.resetSince
			}
			if !s.until.IsZero() && ts.After(s.until) {
				return readFrames(t, &frames, s.grep)
			}
			if (stream == "stdout" && !s.stdout) || (stream == "stderr" && !s.stderr) {
				continue
			}
			writeFrame(&frames, stream, ts, msg, full)
		}
	}
	return readFrames(t, &frames, s.grep)
}

func writeFrame(b *bytes.Buffer, stream string, ts time.Time, msg []byte, full bool) {
	body := ts.UTC().Format(time.RFC3339Nano) + " " + string(msg)
	if full {
		body += "\n"
	}
	var hdr [8]byte
	hdr[0] = 1
	if stream == "stderr" {
		hdr[0] = 2
	}
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(body)))
	b.Write(hdr[:])
	b.WriteString(body)
}

func readFrames(t *testing.T, b *bytes.Buffer, grep *regexp.Regexp) []Line {
	r := NewReader(b, false, grep)
	var out []Line
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *l)
	}
}

// scanRead reads the log at paths with s.
func scanRead(t *testing.T, paths []string, s *scan) []Line {
	lf := &logFiles{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		lf.files, lf.sizes = append(lf.files, f), append(lf.sizes, st.Size())
	}
	var out []Line
	err := s.read(context.Background(), lf, func(b []Line) bool {
		out = append(out, b...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []Line) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d lines, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Stream != w.Stream || !g.Time.Equal(w.Time) || !bytes.Equal(g.Line, w.Line) {
			t.Errorf("%s: line %d = %s %s %q, want %s %s %q", what, i, g.Stream, g.Time.Format(time.RFC3339Nano), g.Line, w.Stream, w.Time.Format(time.RFC3339Nano), w.Line)
			return
		}
	}
}

var greps = []string{"", "level=error", "^(out|err) 9", "a.c", `\\`, `"`, "<b>", "\u00e9", "\t", "(?i)error", "x|", "error$", "\r", "\u2028", `\x{fffd}`}

func TestScanGrepMatchesReader(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 4; round++ {
		paths := genLog(t, rng, 1500, 1+round%3)
		for _, g := range greps {
			for _, chunk := range []int64{0, 97, 4096} {
				s := &scan{stdout: true, stderr: round != 2, trimCR: round == 3, chunk: chunk}
				if g != "" {
					s.grep = regexp.MustCompile(g)
					s.lits = requiredLiterals(s.grep)
				}
				want := refRead(t, paths, s)
				got := scanRead(t, paths, s)
				sameLines(t, fmt.Sprintf("round %d grep %q chunk %d", round, g, chunk), got, want)
			}
		}
	}
}

func TestScanSinceUntilMatchesEngine(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	paths := genLog(t, rng, 2000, 3)
	all := refRead(t, paths, &scan{stdout: true, stderr: true})
	first, last := all[0].Time, all[len(all)-1].Time
	edges := []time.Time{
		first, last, first.Add(-time.Hour), last.Add(time.Hour), first.Add(-1), last.Add(1),
	}
	for range 8 {
		tm := all[rng.Intn(len(all))].Time
		edges = append(edges, tm, tm.Add(1), tm.Add(-1), tm.Add(500*time.Microsecond))
	}
	for i, since := range edges {
		for _, until := range []time.Time{{}, edges[(i+7)%len(edges)], since, since.Add(300 * time.Millisecond)} {
			for _, reset := range []bool{false, true} {
				for _, g := range []string{[]string{"", "level=error"}[i%2]} {
					s := &scan{stdout: true, stderr: true, since: since, until: until, resetSince: reset, chunk: 1000}
					if i%3 == 0 {
						s.since = time.Time{}
					}
					if g != "" {
						s.grep = regexp.MustCompile(g)
						s.lits = requiredLiterals(s.grep)
					}
					want := refRead(t, paths, s)
					got := scanRead(t, paths, s)
					sameLines(t, fmt.Sprintf("since %s until %s reset %v grep %q", s.since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano), reset, g), got, want)
				}
			}
		}
	}
}

func TestSplitJSONLine(t *testing.T) {
	for _, c := range []struct {
		line, msg, ts string
		stream        uint8
		full, ok      bool
	}{
		{`{"log":"hello\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`, "hello", "2024-01-02T03:04:05.123456789Z", streamStdout, true, true},
		{`{"log":"hello\n","stream":"stderr","time":"2024-01-02T03:04:05.1234567Z"}`, "hello", "2024-01-02T03:04:05.1234567Z", streamStderr, true, true},
		{`{"log":"hello\n","stream":"stderr","time":"2024-01-02T03:04:05Z"}`, "hello", "2024-01-02T03:04:05Z", streamStderr, true, true},
		{`{"log":"part","stream":"stdout","time":"2024-01-02T03:04:05.12345678Z"}`, "part", "2024-01-02T03:04:05.12345678Z", streamStdout, false, true},
		{`{"log":"\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`, "", "2024-01-02T03:04:05.123456789Z", streamStdout, true, true},
		{`{"log":"a\tb\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`, "", "", 0, false, false},
		{`{"log":"a\\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`, "", "", 0, false, false},
		{`{"log":"a","x":"b\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}`, "", "", 0, false, false},
		{`{"log":"a\n","stream":"stdout","attrs":{},"time":"2024-01-02T03:04:05.123456789Z"}`, "", "", 0, false, false},
		{`{"log":"a\n","stream":"stdin","time":"2024-01-02T03:04:05.123456789Z"}`, "", "", 0, false, false},
		{`{"log":"torn`, "", "", 0, false, false},
	} {
		p, ok := splitJSONLine([]byte(c.line), false)
		if ok != c.ok || (ok && (string(p.msg) != c.msg || string(p.ts) != c.ts || p.stream != c.stream || p.full != c.full)) {
			t.Errorf("splitJSONLine(%s) = %q %q %d %v %v", c.line, p.msg, p.ts, p.stream, p.full, ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.1Z", "2024-12-31T23:59:59.999999999Z", "2024-01-02T03:04:05+02:00", "2024-02-30T03:04:05Z", "2024-01-02T25:04:05Z", "2024-01-02T03:04:05.Z", "x"} {
		want, werr := time.Parse(time.RFC3339Nano, s)
		got, ok := parseTime([]byte(s))
		if ok != (werr == nil) || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v %v, want %v %v", s, got, ok, want, werr)
		}
	}
}
