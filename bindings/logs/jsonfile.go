package logs

import (
	"context"
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
	if c.LogDriver == CRIDriver {
		rc, err = openCRI(ctx, c, o)
		return rc, false, err
	}
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
	lf := &logFile{path: c.LogPath, format: jsonFormat{trimCR: c.TTY}}
	r, err := lf.read(context.Background(), o)
	if err != nil {
		return nil, false
	}
	return r, true
}

// jsonFormat is the json-file driver's line: {"log":"...","stream":"stdout","time":"..."};
// a log without its trailing newline is a part of a long line.
type jsonFormat struct {
	trimCR bool // a TTY's lines end in \r\n
}

func (j jsonFormat) parse(line []byte) (stream string, t time.Time, msg []byte, full, ok bool) {
	var entry struct {
		Log    string    `json:"log"`
		Stream string    `json:"stream"`
		Time   time.Time `json:"time"`
	}
	if err := json.Unmarshal(line, &entry); err != nil {
		return "", time.Time{}, nil, false, false // a torn last line while the engine writes
	}
	log := entry.Log
	full = strings.HasSuffix(log, "\n")
	if full {
		log = log[:len(log)-1]
		if j.trimCR {
			log = strings.TrimSuffix(log, "\r")
		}
	}
	return entry.Stream, entry.Time, []byte(log), full, true
}
