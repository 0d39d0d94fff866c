package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// openLogs opens the logs of c through the engine, or from the files on
// disk when it does not answer (a read that openScan takes is not asked
// here). The stream is multiplexed unless tty says it is raw.
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
	rc, err = Open(ctx, c, o)
	if docker.NotAnswering(err) {
		rc, err = openDisk(ctx, c, o)
		return rc, false, err
	}
	return rc, c.TTY, err
}

// openScan opens c's json-file log for a scan straight from its files
// (scan.go), when that is safe and what o asks: the engine is Docker on
// this host (so LogPath is a path here), the file is the container's own,
// no rotated part is compressed (the engine reads those), and no follow
// or tail is asked (the engine does those fast). The caller closes the
// files.
func openScan(c *docker.Container, o Options) (*scan, *logFiles, bool) {
	if o.Follow || o.Tail >= 0 || c.LogDriver != "json-file" || c.LogPath == "" || c.Source == docker.SourceDisk {
		return nil, nil, false
	}
	e := c.Engine()
	if e == nil || !strings.HasPrefix(e.Host, "unix://") || e.Down() != nil || e.Runtime() != "docker" {
		return nil, nil, false
	}
	if !strings.HasPrefix(filepath.Base(c.LogPath), c.ID) {
		return nil, nil, false
	}
	lf, err := openLogFiles(c.LogPath)
	if err != nil {
		return nil, nil, false
	}
	s := &scan{
		grep: o.Grep, since: o.Since, until: o.Until,
		stdout: o.Stdout, stderr: o.Stderr, trimCR: c.TTY,
		// Docker 24 (API 1.43) stopped judging messages by since once one
		// reached it.
		resetSince: apiAtLeast(e.ClientVersion(), 1, 43),
	}
	if o.Grep != nil {
		s.lits = requiredLiterals(o.Grep)
	}
	return s, lf, true
}

// openLogFiles opens the log at path and its rotated parts, oldest first,
// as one state of the log: opened again when the engine rotated it
// meanwhile. A compressed part is an error (the engine reads those).
func openLogFiles(path string) (*logFiles, error) {
	for try := 0; ; try++ {
		lf, err := openLogFilesOnce(path)
		if err == nil || !errors.Is(err, errRotated) || try == 3 {
			return lf, err
		}
	}
}

var errRotated = errors.New("rotated while opened")

func openLogFilesOnce(path string) (*logFiles, error) {
	cur, err := openFile(path)
	if err != nil {
		return nil, err
	}
	files := []*os.File{cur}
	lf := &logFiles{}
	for i := 1; ; i++ {
		suffix := "." + strconv.Itoa(i)
		f, err := openFile(path + suffix)
		if err == nil {
			files = append(files, f)
			continue
		}
		if _, gzErr := os.Lstat(path + suffix + ".gz"); gzErr == nil || !errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%s: not read here", path+suffix)
		} else if !sameFile(path, cur) {
			err = errRotated
		} else {
			err = nil
		}
		if err != nil {
			closeFiles(files)
			return nil, err
		}
		break
	}
	slices.Reverse(files)
	for _, f := range files {
		st, err := f.Stat()
		if err != nil {
			closeFiles(files)
			return nil, err
		}
		lf.files, lf.sizes = append(lf.files, f), append(lf.sizes, st.Size())
	}
	return lf, nil
}

// sameFile reports whether path is still f.
func sameFile(path string, f *os.File) bool {
	a, err := os.Lstat(path)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func (lf *logFiles) Close() error {
	closeFiles(lf.files)
	return nil
}

// apiAtLeast reports whether the API version v ("1.43") is at least
// major.minor.
func apiAtLeast(v string, major, minor int) bool {
	a, b, ok := strings.Cut(v, ".")
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return false
	}
	return x > major || (x == major && y >= minor)
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
