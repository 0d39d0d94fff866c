package logs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sort"
	"time"
)

// logFiles are the files of a json-file log as they were when opened,
// oldest first (*.log.N ... *.log.1, *.log). Within a file the lines are
// in time order, and each file's lines are older than the next file's, so
// since and until are found by binary search over the files' bytes seen
// as one range.
type logFiles struct {
	files []*os.File
	sizes []int64
}

// pos is a place in the log: an offset in one of its files.
type pos struct {
	i   int
	off int64
}

func (lf *logFiles) total() int64 {
	var n int64
	for _, s := range lf.sizes {
		n += s
	}
	return n
}

// at maps an offset in the whole range to a place in a file.
func (lf *logFiles) at(v int64) pos {
	for i, s := range lf.sizes {
		if v < s {
			return pos{i, v}
		}
		v -= s
	}
	return lf.end()
}

func (lf *logFiles) end() pos {
	if len(lf.sizes) == 0 {
		return pos{}
	}
	return pos{len(lf.sizes) - 1, lf.sizes[len(lf.sizes)-1]}
}

func (lf *logFiles) flat(p pos) int64 {
	v := p.off
	for _, s := range lf.sizes[:p.i] {
		v += s
	}
	return v
}

// lineFrom finds the first line of the log that starts at or after p and
// has a time: where it starts and its time; at the end, ok is false.
func (lf *logFiles) lineFrom(p pos) (start pos, t time.Time, ok bool, err error) {
	for ; p.i < len(lf.files); p = (pos{p.i + 1, 0}) {
		f, size := lf.files[p.i], lf.sizes[p.i]
		off := p.off
		if off > 0 { // start at the line after the newline at or after off-1
			nl, err := indexFrom(f, off-1, size, '\n')
			if err != nil || nl < 0 {
				if err != nil {
					return pos{}, time.Time{}, false, err
				}
				continue
			}
			off = nl + 1
		}
		for off < size {
			line, next, err := lineAt(f, off, size)
			if err != nil {
				return pos{}, time.Time{}, false, err
			}
			if t, ok := lineTime(line); ok {
				return pos{p.i, off}, t, true, nil
			}
			off = next // torn or corrupt: the next line
		}
	}
	return lf.end(), time.Time{}, false, nil
}

// seek returns where the first line whose time is at or after t starts
// (after t, with strict): the end of the log when there is none.
func (lf *logFiles) seek(t time.Time, strict bool) (pos, error) {
	var ferr error
	total := lf.total()
	v := sort.Search(int(total)+1, func(v int) bool {
		if ferr != nil {
			return true
		}
		_, lt, ok, err := lf.lineFrom(lf.at(int64(v)))
		if err != nil {
			ferr = err
			return true
		}
		return !ok || lt.After(t) || (!strict && lt.Equal(t))
	})
	if ferr != nil {
		return pos{}, ferr
	}
	p, _, _, err := lf.lineFrom(lf.at(int64(v)))
	return p, err
}

// maxSeekLine bounds a line read to learn its time.
const maxSeekLine = 4 << 20

// lineAt reads the line that starts at off (without its newline) and
// returns where the next one starts.
func lineAt(f *os.File, off, size int64) ([]byte, int64, error) {
	n := int64(4 << 10)
	for {
		n = min(n, size-off)
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[:i], off + int64(i) + 1, nil
		}
		if off+n >= size || n >= maxSeekLine {
			return b, off + n, nil // the last line, or too long to be judged
		}
		n *= 4
	}
}

// indexFrom returns the offset of the first c at or after off, or -1.
func indexFrom(f *os.File, off, size int64, c byte) (int64, error) {
	buf := make([]byte, 16<<10)
	for off < size {
		b := buf[:min(int64(len(buf)), size-off)]
		if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.IndexByte(b, c); i >= 0 {
			return off + int64(i), nil
		}
		off += int64(len(b))
	}
	return -1, nil
}

// Where a read with since starts: the first line at or after since less
// sinceSlack, so that lines written a little out of time order (the engine
// stamps stdout and stderr in two goroutines, microseconds apart) are
// judged as the engine judges them, but never more than slackBytes before
// the first line at or after since.
const (
	sinceSlack = 100 * time.Millisecond
	slackBytes = 256 << 10
)

// parts are the byte ranges of the files that a read from since to until
// needs: lines before them are before since, lines after them after a
// line past until, which ends the read.
func (lf *logFiles) parts(since, until time.Time) ([]part, error) {
	start, end := pos{}, lf.end()
	var err error
	if !since.IsZero() {
		if start, err = lf.seek(since.Add(-sinceSlack), false); err != nil {
			return nil, err
		}
		exact, err := lf.seek(since, false)
		if err != nil {
			return nil, err
		}
		if lf.flat(exact)-lf.flat(start) > slackBytes {
			if start, _, _, err = lf.lineFrom(lf.at(lf.flat(exact) - slackBytes)); err != nil {
				return nil, err
			}
		}
	}
	if !until.IsZero() && (since.IsZero() || !until.Before(since)) {
		// The first line after until is at or after since: the engine
		// stops there at the latest.
		if end, err = lf.seek(until, true); err != nil {
			return nil, err
		}
	}
	var out []part
	for i := start.i; i < len(lf.files) && i <= end.i; i++ {
		p := part{f: lf.files[i], from: 0, to: lf.sizes[i]}
		if i == start.i {
			p.from = start.off
		}
		if i == end.i {
			p.to = end.off
		}
		if p.from < p.to {
			out = append(out, p)
		}
	}
	return out, nil
}
