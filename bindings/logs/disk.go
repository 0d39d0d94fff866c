package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// FollowPoll is how often a followed log read from disk is looked at for
// new lines.
var FollowPoll = 250 * time.Millisecond

// openDisk opens c's json-file log (and its uncompressed rotated parts)
// straight from the engine's data root, for when the engine does not
// answer: tail, since, until and stream selection are applied here, follow
// polls the file. The stream is multiplexed frames, as the engine's.
func openDisk(ctx context.Context, c *docker.Container, o Options) (io.ReadCloser, error) {
	cur, err := c.OpenLog("")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: logs: no json-file log: %w", c.Subject(), err)
		}
		return nil, err
	}
	// Newest first: the current file, then .1, .2, ... while they are
	// there uncompressed (the engine gzips older parts with compress=true).
	files := []*os.File{cur}
	for i := 1; i < 100; i++ {
		f, err := c.OpenLog("." + strconv.Itoa(i))
		if err != nil {
			break
		}
		files = append(files, f)
	}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	starts := make([]int64, len(files))
	if o.Tail >= 0 {
		need := o.Tail
		keep := 0
		for i, f := range files {
			if need == 0 {
				break
			}
			off, got, err := tailOffset(f, need)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("%s: logs: %w", c.Subject(), err)
			}
			starts[i], need, keep = off, need-got, i+1
		}
		if o.Tail == 0 {
			st, err := cur.Stat()
			if err != nil {
				closeAll()
				return nil, err
			}
			starts[0], keep = st.Size(), 1
		}
		for _, f := range files[keep:] {
			f.Close()
		}
		files, starts = files[:keep], starts[:keep]
	}
	var parts []io.Reader
	for i := len(files) - 1; i > 0; i-- {
		parts = append(parts, io.NewSectionReader(files[i], starts[i], 1<<62))
	}
	// The current file is read through its offset, where following goes on.
	if _, err := cur.Seek(starts[0], io.SeekStart); err != nil {
		closeAll()
		return nil, err
	}
	parts = append(parts, cur)
	src := &diskLog{files: files, r: io.MultiReader(parts...), done: make(chan struct{})}
	if o.Follow {
		src.follow = func() (io.Reader, error) { return src.grow(ctx, c) }
	}
	return &jsonFileReader{f: src, r: bufio.NewReaderSize(src, 256<<10), o: o, trimCR: c.TTY}, nil
}

// diskLog reads the parts of a log in order, then, when following, what
// is written to the current file after.
type diskLog struct {
	files  []*os.File // newest first; files[0] is the current file
	r      io.Reader
	follow func() (io.Reader, error)
	once   sync.Once
	done   chan struct{}
}

func (d *diskLog) Read(p []byte) (int, error) {
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

// grow waits until the current file has more, or was replaced by a new
// one (rotation), and returns a reader of what is new.
func (d *diskLog) grow(ctx context.Context, c *docker.Container) (io.Reader, error) {
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
		if f, err := c.OpenLog(""); err == nil {
			var a, b unix.Stat_t
			if unix.Fstat(int(f.Fd()), &a) == nil && unix.Fstat(int(cur.Fd()), &b) == nil && a.Ino != b.Ino {
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

func (d *diskLog) Close() error {
	d.once.Do(func() { close(d.done) })
	for _, f := range d.files {
		f.Close()
	}
	return nil
}

// tailOffset returns where the last n lines of f start, and how many lines
// it has up to n (fewer: the whole file is in, offset 0).
func tailOffset(f *os.File, n int) (off int64, got int, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	end := st.Size()
	if end == 0 || n <= 0 {
		return end, 0, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], end-1); err != nil {
		return 0, 0, err
	}
	if last[0] == '\n' {
		end-- // the last line's own newline
	}
	buf := make([]byte, 64<<10)
	count := 0
	for pos := end; pos > 0; {
		size := min(int64(len(buf)), pos)
		pos -= size
		b := buf[:size]
		if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == '\n' {
				count++
				if count == n {
					return pos + int64(i) + 1, n, nil
				}
			}
		}
	}
	return 0, count + 1, nil
}
