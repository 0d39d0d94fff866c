package logs

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// CRIDriver is the LogDriver of a container whose runtime writes the CRI's
// log file (containerd, CRI-O) at its LogPath.
const CRIDriver = "cri"

// openCRI opens c's CRI log file: tail, since, until, streams and follow
// are applied here (no runtime serves logs through the CRI; the kubelet
// reads the same files).
func openCRI(ctx context.Context, c *docker.Container, o Options) (io.ReadCloser, error) {
	if c.LogPath == "" {
		return nil, openErr(c.Subject(), "(the runtime gave no log path)", errNoLog)
	}
	lf := &logFile{path: c.LogPath, format: criFormat{}, rotated: func() []string { return criRotated(c.LogPath) }}
	r, err := lf.read(ctx, o)
	if err != nil {
		return nil, openErr(c.Subject(), c.LogPath, err)
	}
	return r, nil
}

// criRotated lists the rotated parts of the CRI log at path that are not
// compressed, newest first. The kubelet renames 0.log to
// 0.log.20060102-150405 (then compresses the older ones to .gz, through a
// .tmp file).
func criRotated(path string) []string {
	matches, _ := filepath.Glob(globEscape(path) + ".*")
	var out []string
	for _, m := range matches {
		suffix := strings.TrimPrefix(m, path+".")
		if strings.HasSuffix(suffix, ".gz") || strings.HasSuffix(suffix, ".tmp") {
			continue
		}
		if fi, err := os.Lstat(m); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, m)
	}
	// The timestamps sort as text.
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// globEscape quotes the pattern characters of a path for filepath.Glob.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// criFormat is the CRI's log line: "<RFC3339Nano> <stdout|stderr> <tags>
// <message>", tags "F" (the message ends a line) or "P" (a part of a long
// line, which the runtime cuts, 16 KiB by default), possibly followed by
// more tags after a ":" (the kubelet's parser reads only the first).
type criFormat struct{}

func (criFormat) parse(line []byte) (stream string, t time.Time, msg []byte, full, ok bool) {
	ts, rest, ok1 := bytes.Cut(line, []byte(" "))
	st, rest, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 {
		return "", time.Time{}, nil, false, false
	}
	tags, msg, _ := bytes.Cut(rest, []byte(" ")) // an empty line may lack the space
	var err error
	if t, err = time.Parse(time.RFC3339Nano, string(ts)); err != nil {
		return "", time.Time{}, nil, false, false
	}
	switch string(st) {
	case "stdout", "stderr":
		stream = string(st)
	default:
		return "", time.Time{}, nil, false, false
	}
	tag, _, _ := bytes.Cut(tags, []byte(":"))
	switch string(tag) {
	case "F":
		full = true
	case "P":
	default:
		return "", time.Time{}, nil, false, false
	}
	return stream, t, msg, full, true
}
