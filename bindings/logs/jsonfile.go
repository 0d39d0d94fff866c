package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// openLogs opens the logs of c: read straight from the json-file log when
// the engine is on this host and the read is a whole-file scan (grep: the
// engine would stream every line through its API, which is what makes
// `docker logs | grep` slow on big logs), else through the engine. The stream is multiplexed unless tty says it is raw.
func openLogs(ctx context.Context, c *docker.Container, o Options) (rc io.ReadCloser, tty bool, err error) {
	if c.Source == docker.SourceDisk || c.Engine().Down() != nil {
		// The engine does not answer: its json-file log is read instead.
		rc, err = openDisk(ctx, c, o)
		return rc, false, err
	}
	if r, ok := openJSONFile(c, o); ok {
		return r, false, nil
	}
	rc, err = Open(ctx, c, o)
	if docker.NotAnswering(err) {
		rc, err = openDisk(ctx, c, o)
		return rc, false, err
	}
	return rc, c.TTY, err
}

// openJSONFile opens c's json-file log for a direct read, when that is
// safe: the engine is reached over a local unix socket (so its LogPath is
// a path on this host), the file is the container's own, it has not been
// rotated (rotated parts may be compressed; the engine reads them), and no
// follow or tail is asked (the engine does those fast).
func openJSONFile(c *docker.Container, o Options) (io.ReadCloser, bool) {
	// since/until stay with the engine: its cut at the edges did not match
	// a plain comparison of entry times in tests against the docker CLI.
	if o.Follow || o.Tail >= 0 || !o.Since.IsZero() || !o.Until.IsZero() || c.LogDriver != "json-file" || c.LogPath == "" {
		return nil, false
	}
	if e := c.Engine(); e == nil || !strings.HasPrefix(e.Host, "unix://") {
		return nil, false
	}
	if !strings.HasPrefix(filepath.Base(c.LogPath), c.ID) {
		return nil, false
	}
	if _, err := os.Stat(c.LogPath + ".1"); err == nil {
		return nil, false
	}
	f, err := os.Open(c.LogPath)
	if err != nil {
		return nil, false
	}
	return &jsonFileReader{f: f, r: bufio.NewReaderSize(f, 256<<10), o: o, trimCR: c.TTY}, true
}

// jsonFileReader turns json-file entries into the engine's multiplexed
// frames ("TIMESTAMP message" with an 8-byte header), filtered by stream,
// so that Reader parses both sources the same way.
type jsonFileReader struct {
	f      io.Closer
	r      *bufio.Reader
	o      Options
	trimCR bool
	buf    bytes.Buffer
	entry  struct {
		Log    string    `json:"log"`
		Stream string    `json:"stream"`
		Time   time.Time `json:"time"`
	}
}

func (j *jsonFileReader) Read(p []byte) (int, error) {
	for j.buf.Len() == 0 {
		line, err := j.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// An entry longer than the buffer: collect it whole.
			rest, err2 := j.r.ReadBytes('\n')
			line = append(append([]byte(nil), line...), rest...)
			err = err2
		}
		if len(line) > 0 {
			j.frame(line)
		}
		if err != nil {
			if j.buf.Len() > 0 {
				break
			}
			return 0, err
		}
	}
	return j.buf.Read(p)
}

func (j *jsonFileReader) frame(line []byte) {
	j.entry.Log, j.entry.Stream = "", ""
	if err := json.Unmarshal(line, &j.entry); err != nil {
		return // a torn last line while the engine writes
	}
	if (j.entry.Stream == "stdout" && !j.o.Stdout) || (j.entry.Stream == "stderr" && !j.o.Stderr) {
		return
	}
	if (!j.o.Since.IsZero() && j.entry.Time.Before(j.o.Since)) || (!j.o.Until.IsZero() && j.entry.Time.After(j.o.Until)) {
		return
	}
	msg := j.entry.Log
	if j.trimCR && strings.HasSuffix(msg, "\r\n") {
		msg = msg[:len(msg)-2] + "\n"
	}
	ts := j.entry.Time.UTC().Format(time.RFC3339Nano)
	var hdr [8]byte
	hdr[0] = 1
	if j.entry.Stream == "stderr" {
		hdr[0] = 2
	}
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(ts)+1+len(msg)))
	j.buf.Write(hdr[:])
	j.buf.WriteString(ts)
	j.buf.WriteByte(' ')
	j.buf.WriteString(msg)
}

func (j *jsonFileReader) Close() error { return j.f.Close() }
