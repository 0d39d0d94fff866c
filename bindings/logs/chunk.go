package logs

import (
	"bytes"
	"errors"
	"io"
)

// chunkWorker reads and judges chunks, one at a time, on one core.
type chunkWorker struct {
	s     *scan
	buf   []byte
	arena []byte // the current chunk's messages, copied out of buf
	recs  []rec
	// open says that the stream's last message in the chunk so far was a
	// part of a long line (true at the start: the chunk before may have
	// ended in one), so its next message is read whatever the grep says.
	open [3]bool
}

func (w *chunkWorker) do(j chunkJob) chunkResult {
	b, err := w.read(j)
	if err != nil {
		return chunkResult{err: err}
	}
	if w.s.grep == nil || w.s.timed() {
		// Most lines make a record, and most of their bytes are messages.
		w.recs, w.arena = make([]rec, 0, len(b)/64+16), make([]byte, 0, len(b)/2+64)
	} else {
		w.recs, w.arena = nil, make([]byte, 0, 4<<10)
	}
	w.open = [3]bool{true, true, true}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		w.line(line)
	}
	return chunkResult{recs: w.recs}
}

// read returns the lines that start in the chunk: from the first line
// start at or after from, to the end of the line that holds to-1.
func (w *chunkWorker) read(j chunkJob) ([]byte, error) {
	start := j.from
	if j.from > j.p.from {
		start-- // the byte before says whether from starts a line
	}
	b, err := w.readAt(j.p, start, j.to, 0)
	if err != nil {
		return nil, err
	}
	for end := j.to; len(b) > 0 && b[len(b)-1] != '\n' && end < j.p.to; {
		// The last line goes on after the chunk: read on to its newline.
		n := len(b)
		stop := min(end+64<<10, j.p.to)
		if b, err = w.readAt(j.p, end, stop, n); err != nil {
			return nil, err
		}
		if i := bytes.IndexByte(b[n:], '\n'); i >= 0 {
			b = b[:n+i+1]
		}
		end = stop
	}
	if j.from > j.p.from {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, nil // inside one line that started before
		}
		b = b[i+1:]
	}
	return b, nil
}

// readAt reads [from, to) of p's file into w.buf after its first keep
// bytes, and returns buf up to what was read (less when the file shrank).
func (w *chunkWorker) readAt(p part, from, to int64, keep int) ([]byte, error) {
	need := keep + int(to-from)
	if cap(w.buf) < need {
		// Room for the end of a chunk's last line too (read on after it).
		nb := make([]byte, need, max(need+need/8+128<<10, 2*cap(w.buf)))
		copy(nb, w.buf[:keep])
		w.buf = nb
	}
	w.buf = w.buf[:need]
	n, err := p.f.ReadAt(w.buf[keep:need], from)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return w.buf[:keep+n], nil
}

// line judges one line of the file.
func (w *chunkWorker) line(line []byte) {
	s := w.s
	p, ok := splitJSONLine(line, s.trimCR)
	if !ok {
		w.slowLine(line)
		return
	}
	if !s.selected(p.stream) {
		if s.timed() {
			if t, ok := parseTime(p.ts); ok {
				w.recs = append(w.recs, rec{t: t, stream: p.stream, full: p.full})
			}
		}
		return
	}
	need := !p.full || w.open[p.stream]
	match := p.full && s.match(p.msg)
	if (need || match) && !plainText(p.msg) {
		w.slowLine(line)
		return
	}
	if !need && !match && !s.timed() {
		w.open[p.stream] = false
		return
	}
	t, ok := parseTime(p.ts)
	if !ok {
		w.slowLine(line)
		return
	}
	w.open[p.stream] = !p.full
	r := rec{t: t, stream: p.stream, full: p.full, match: match}
	if need || match {
		w.arena = append(w.arena, p.msg...)
		n := len(w.arena)
		r.msg = w.arena[n-len(p.msg) : n : n]
	}
	w.recs = append(w.recs, r)
}

// slowLine judges a line through encoding/json: escapes, other fields, or
// not a line of the log at all (torn while written: dropped).
func (w *chunkWorker) slowLine(line []byte) {
	s := w.s
	name, t, msg, full, ok := jsonFormat{trimCR: s.trimCR}.parse(line)
	if !ok {
		return
	}
	stream := uint8(streamStdout)
	if name == "stderr" {
		stream = streamStderr
	}
	r := rec{t: t, stream: stream, full: full}
	if s.selected(stream) {
		need := !full || w.open[stream]
		r.match = full && s.match(msg)
		w.open[stream] = !full
		if need || r.match {
			r.msg = msg // encoding/json's own copy
		}
	}
	if r.msg != nil || s.timed() {
		w.recs = append(w.recs, r)
	}
}
