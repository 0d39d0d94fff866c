package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Log files read straight from disk: Docker's json-file logs and the CRI's
// (containerd, CRI-O). Both keep one line of the file per log message, a
// long line cut in parts (partial messages), and rotate the file by renaming
// it and starting a new one. What differs is each line's format, so the
// reading is written once here (tail, since/until, stream selection,
// rotated parts, follow across rotations) over a fileFormat.

// fileFormat is the format of a log file's lines.
type fileFormat interface {
	// parse reads one line of the file (without its newline): its stream,
	// time, message and whether the message ends a log line (false: a part
	// of a long line that the next message of the stream continues). ok is
	// false for a line that is not one (torn while written, corrupt).
	parse(line []byte) (stream string, t time.Time, msg []byte, full, ok bool)
}

// FollowPoll is how often a followed log file is looked at for new lines
// and for rotation.
var FollowPoll = 250 * time.Millisecond

// logFile is a log's parts on disk: the current file, and the rotated
// ones that a read from their start may need, newest first.
type logFile struct {
	path    string                         // the current file
	rotated func() []string                // the rotated parts, newest first (uncompressed only)
	format  fileFormat                     // their lines
	open    func(string) (*os.File, error) // opens a part (O_NOFOLLOW)
}

// openFile opens a log file for reading without following a symlink: the
// directory is the runtime's, but a container may own what its log path
// resolves to in some setups.
func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// read opens the log for o: the parts the tail needs (all of them without
// a tail), each from where its lines start, and when following, what is
// written to the current file afterwards, across rotations. The reader
// gives the Reader's multiplexed frames, filtered by stream and time. The
// caller closes it; closing it ends a follow.
func (lf *logFile) read(ctx context.Context, o Options) (io.ReadCloser, error) {
	if lf.open == nil {
		lf.open = openFile
	}
	cur, err := lf.open(lf.path)
	if err != nil {
		return nil, err
	}
	files := []*os.File{cur}
	if o.Tail != 0 && lf.rotated != nil {
		for _, p := range lf.rotated() {
			f, err := lf.open(p)
			if err != nil {
				continue // compressed or removed meanwhile
			}
			files = append(files, f)
		}
	}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	// Without follow, the log is what it was when asked (as the engine
	// reads it): a busy container's lines written while the tail is found
	// and read are not added to the last n.
	end0 := int64(-1)
	if !o.Follow {
		st, err := cur.Stat()
		if err != nil {
			closeAll()
			return nil, err
		}
		end0 = st.Size()
	}
	starts := make([]int64, len(files))
	skip := 0
	if o.Tail >= 0 {
		i, off, sk, err := tailStart(files, end0, o.Tail, lf.format)
		if err != nil {
			closeAll()
			return nil, err
		}
		for _, f := range files[i+1:] {
			f.Close()
		}
		files, starts, skip = files[:i+1], starts[:i+1], sk
		starts[i] = off
	}
	var parts []io.Reader
	for i := len(files) - 1; i > 0; i-- {
		parts = append(parts, io.NewSectionReader(files[i], starts[i], 1<<62))
	}
	// The current file is read through its offset, where a follow goes on.
	if _, err := cur.Seek(starts[0], io.SeekStart); err != nil {
		closeAll()
		return nil, err
	}
	if end0 >= 0 {
		parts = append(parts, io.NewSectionReader(cur, starts[0], max(end0-starts[0], 0)))
	} else {
		parts = append(parts, cur)
	}
	src := &partsReader{files: files, r: io.MultiReader(parts...), done: make(chan struct{})}
	if o.Follow {
		src.follow = func() (io.Reader, error) { return src.grow(ctx, lf) }
	}
	return &frameReader{c: src, r: bufio.NewReaderSize(src, 256<<10), o: o, format: lf.format, skip: skip}, nil
}

// partsReader reads the parts of a log in order, then, when following,
// what is written to the current file after.
type partsReader struct {
	files  []*os.File // newest first; files[0] is the current file
	r      io.Reader
	follow func() (io.Reader, error)
	once   sync.Once
	done   chan struct{}
}

func (d *partsReader) Read(p []byte) (int, error) {
	for {
		n, err := d.r.Read(p)
		if n > 0 || !errors.Is(err, io.EOF) || d.follow == nil {
			return n, err
		}
		r, err := d.follow()
		if err != nil {
			return 0, err
		}
		d.r = r
	}
}

// grow waits until the current file has more, or was replaced by a new one
// (rotation: what the old file got before it was renamed is read first,
// then the new file from its start), and returns a reader of what is new.
func (d *partsReader) grow(ctx context.Context, lf *logFile) (io.Reader, error) {
	cur := d.files[0]
	for {
		off, err := cur.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		st, err := cur.Stat()
		if err != nil {
			return nil, err
		}
		if st.Size() > off {
			return cur, nil
		}
		if st.Size() < off {
			// Truncated in place (copytruncate): read it again from the start.
			if _, err := cur.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return cur, nil
		}
		if f, err := lf.open(lf.path); err == nil {
			var a, b unix.Stat_t
			if unix.Fstat(int(f.Fd()), &a) == nil && unix.Fstat(int(cur.Fd()), &b) == nil && (a.Ino != b.Ino || a.Dev != b.Dev) {
				d.files = append([]*os.File{f}, d.files...)
				return f, nil
			}
			f.Close()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-d.done:
			return nil, io.EOF
		case <-time.After(FollowPoll):
		}
	}
}

func (d *partsReader) Close() error {
	d.once.Do(func() { close(d.done) })
	for _, f := range d.files {
		f.Close()
	}
	return nil
}

// tailStart finds where the last n log lines of a log start: in files[i]
// (files are newest first; the log is read from files[i] at off on to
// files[0]). A log line is a full message and the parts of the same stream
// before it; parts at the end still without their full message (being
// written) count as one. The start is where no stream is in the middle of
// a line, so that every line read is whole: when the other stream's lines
// come between a long line's parts, whole lines from before the last n
// are read too, and skip says how many (the reader drops them). end0 is
// where files[0] ends for this read (-1: its size now).
func tailStart(files []*os.File, end0 int64, n int, format fileFormat) (i int, off int64, skip int, err error) {
	if end0 < 0 {
		st, err := files[0].Stat()
		if err != nil {
			return 0, 0, 0, err
		}
		end0 = st.Size()
	}
	if n <= 0 {
		return 0, end0, 0, nil
	}
	total := 0
	seen := map[string]bool{}
	need := map[string]bool{} // streams whose line read so far may have parts further back
	for i, f := range files {
		end := int64(-1)
		if i == 0 {
			end = end0
		}
		stop, at, err := eachLineBackward(f, end, func(b []byte, after int64) bool {
			stream, _, _, full, ok := format.parse(b)
			if !ok {
				return false // not a line of the log: read, never counted
			}
			if full && need[stream] {
				delete(need, stream) // the line read after it starts there
			}
			if total >= n && len(need) == 0 {
				return true // the tail starts after this line
			}
			if full || !seen[stream] {
				total++
			}
			seen[stream], need[stream] = true, true
			return false
		})
		if err != nil {
			return 0, 0, 0, err
		}
		if stop {
			return i, at, total - n, nil
		}
	}
	return len(files) - 1, 0, max(total-n, 0), nil
}

// eachLineBackward calls fn for each line of f up to end (-1: its size),
// from the last, with the offset just past it (its newline); it stops when
// fn returns true, and returns that offset.
func eachLineBackward(f *os.File, end int64, fn func(line []byte, after int64) bool) (stopped bool, at int64, err error) {
	if end < 0 {
		st, err := f.Stat()
		if err != nil {
			return false, 0, err
		}
		end = st.Size()
	}
	if end == 0 {
		return false, 0, nil
	}
	visit := func(start, stop int64) (bool, error) {
		if stop-start > maxFileLine {
			start = stop - maxFileLine // judged by its end (the json-file "log" ends there)
		}
		b := make([]byte, stop-start)
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		after := stop + 1
		if after > end {
			after = end
		}
		return fn(b, after), nil
	}
	hi := end // the end of the line being looked for: its newline, or the end of the file
	var last [1]byte
	if _, err := f.ReadAt(last[:], end-1); err != nil {
		return false, 0, err
	}
	if last[0] == '\n' {
		hi = end - 1
	}
	buf := make([]byte, 64<<10)
	for pos := hi; pos > 0; {
		size := min(int64(len(buf)), pos)
		pos -= size
		b := buf[:size]
		if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return false, 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' {
				continue
			}
			nl := pos + int64(i)
			done, err := visit(nl+1, hi)
			if err != nil {
				return false, 0, err
			}
			if done {
				return true, min(hi+1, end), nil
			}
			hi = nl
		}
	}
	done, err := visit(0, hi)
	if err != nil {
		return false, 0, err
	}
	if done {
		return true, min(hi+1, end), nil
	}
	return false, 0, nil
}

// maxFileLine bounds what is read of one line to judge it in a tail.
const maxFileLine = 1 << 20

// frameReader turns a log file's lines into the Reader's multiplexed
// frames ("TIMESTAMP message" behind an 8-byte header; a part of a long
// line without its newline), keeping the lines o selects by stream and
// time, so that the engine's stream and the files on disk are parsed by
// one Reader.
type frameReader struct {
	c      io.Closer
	r      *bufio.Reader
	o      Options
	format fileFormat
	buf    bytes.Buffer
	// skip is how many whole lines to drop first (see tailStart); the
	// parts of each stream are held until its full message says whether
	// their line is one of them.
	skip int
	held map[string][]heldPart
}

type heldPart struct {
	t   time.Time
	msg []byte
}

func (j *frameReader) Read(p []byte) (int, error) {
	for j.buf.Len() == 0 {
		line, err := j.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: collect it whole (line is the
			// buffer's, which the next read reuses: copied first).
			line = append([]byte(nil), line...)
			rest, err2 := j.r.ReadBytes('\n')
			line = append(line, rest...)
			err = err2
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			j.frame(line[:len(line)-1])
		} else if len(line) > 0 && err != nil {
			// A last line without its newline: being written (a follow
			// reads it again whole once it has one), or torn.
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

func (j *frameReader) frame(line []byte) {
	stream, t, msg, full, ok := j.format.parse(line)
	if !ok {
		return
	}
	if j.skip > 0 {
		if j.held == nil {
			j.held = map[string][]heldPart{}
		}
		if !full {
			j.held[stream] = append(j.held[stream], heldPart{t, append([]byte(nil), msg...)})
			return
		}
		if j.skip--; j.skip >= 0 {
			delete(j.held, stream) // a line from before the tail
			if j.skip > 0 {
				return
			}
			// The tail starts: the parts held are its lines'.
			for s, parts := range j.held {
				for _, p := range parts {
					j.emit(s, p.t, p.msg, false)
				}
			}
			j.held = nil
			return
		}
	}
	j.emit(stream, t, msg, full)
}

// emit writes the frame of one message, when o selects it.
func (j *frameReader) emit(stream string, t time.Time, msg []byte, full bool) {
	if (stream == "stdout" && !j.o.Stdout) || (stream == "stderr" && !j.o.Stderr) {
		return
	}
	if (!j.o.Since.IsZero() && t.Before(j.o.Since)) || (!j.o.Until.IsZero() && t.After(j.o.Until)) {
		return
	}
	ts := t.UTC().Format(time.RFC3339Nano)
	n := len(ts) + 1 + len(msg)
	if full {
		n++
	}
	var hdr [8]byte
	hdr[0] = 1
	if stream == "stderr" {
		hdr[0] = 2
	}
	binary.BigEndian.PutUint32(hdr[4:], uint32(n))
	j.buf.Write(hdr[:])
	j.buf.WriteString(ts)
	j.buf.WriteByte(' ')
	j.buf.Write(msg)
	if full {
		j.buf.WriteByte('\n')
	}
}

func (j *frameReader) Close() error { return j.c.Close() }

// errNoLog is wrapped by the error of a log that has no file.
var errNoLog = errors.New("no log file")

// openErr names what failed in opening a log file.
func openErr(subject, path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: logs: %s: %w", subject, path, errNoLog)
	}
	return fmt.Errorf("%s: logs: %w", subject, err)
}
