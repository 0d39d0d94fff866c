package logs

import (
	"context"
	"os"
	"regexp"
	"runtime"
	"sync"
	"time"
)

// A scan reads a json-file log straight from its files, split in chunks
// at line boundaries that the cores read and filter at once; the lines are
// merged back in order. Each line is judged from its bytes where it can
// be: its message is its bytes in the file unless it has escapes
// (splitJSONLine), a grep's literals rule most lines out before the
// regexp runs, and times are parsed only for the lines that need them.

// part is a byte range of one of the log's files.
type part struct {
	f        *os.File
	from, to int64
}

// scan is one read of a log's parts, oldest first.
type scan struct {
	parts  []part
	grep   *regexp.Regexp
	lits   [][]byte // grep's prefilter (requiredLiterals)
	since  time.Time
	until  time.Time
	stdout bool
	stderr bool
	trimCR bool // a TTY's lines end in \r\n
	// resetSince: since is judged until a message reaches it, then no
	// more (Docker 24 on); else every message is judged.
	resetSince bool
	chunk      int64
}

// rec is one message a chunk hands to the merge: every message when the
// read has since or until (their cut is the merge's), else only those that
// may be part of a line read.
type rec struct {
	t      time.Time
	msg    []byte // nil when it cannot be read (not selected, no match)
	stream uint8
	full   bool
	match  bool // msg alone passes the grep
}

type chunkResult struct {
	recs []rec
	err  error
}

// chunkJob is a chunk: the lines starting in [from, to) of p.f; from is a
// line start when it is its part's start.
type chunkJob struct {
	p        part
	from, to int64
}

const maxChunk = 1 << 20

// jobs cuts the parts in chunks, small enough to give every core a few.
func (s *scan) jobs() []chunkJob {
	var total int64
	for _, p := range s.parts {
		total += p.to - p.from
	}
	size := s.chunk
	if size == 0 {
		size = min(maxChunk, max(64<<10, total/int64(4*runtime.GOMAXPROCS(0))))
	}
	var out []chunkJob
	for _, p := range s.parts {
		for at := p.from; at < p.to; at += size {
			out = append(out, chunkJob{p: p, from: at, to: min(at+size, p.to)})
		}
	}
	return out
}

// run scans the log and hands the lines read, in order, to emit, a batch
// at a time, until emit returns false or ctx ends.
func (s *scan) run(ctx context.Context, emit func([]Line) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := s.jobs()
	workers := min(runtime.GOMAXPROCS(0), max(len(jobs), 1))
	results := make([]chan chunkResult, len(jobs))
	for i := range results {
		results[i] = make(chan chunkResult, 1) // written once
	}
	// At most 2 chunks a worker are read ahead of the merge.
	tokens := make(chan struct{}, 2*workers)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &chunkWorker{s: s}
			for i := range next {
				results[i] <- w.do(jobs[i])
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range jobs {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			next <- i
		}
	}()
	err := s.merge(ctx, results, tokens, emit)
	cancel()
	wg.Wait() // each result has room in its channel: no worker waits on the merge

	return err
}

// merge reads the chunks' results in order.
func (s *scan) merge(ctx context.Context, results []chan chunkResult, tokens chan struct{}, emit func([]Line) bool) error {
	m := &merger{s: s, sinceOpen: !s.since.IsZero()}
	for _, r := range results {
		var res chunkResult
		select {
		case res = <-r:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-tokens
		if res.err != nil {
			return res.err
		}
		stop := m.add(res.recs)
		if len(m.out) > 0 && !emit(m.out) {
			return ctx.Err()
		}
		m.out = nil
		if stop {
			break
		}
	}
	m.flush()
	if len(m.out) > 0 && !emit(m.out) {
		return ctx.Err()
	}
	return nil
}

func (s *scan) timed() bool { return !s.since.IsZero() || !s.until.IsZero() }

func (s *scan) selected(stream uint8) bool {
	if stream == streamStderr {
		return s.stderr
	}
	return s.stdout
}

// match reports whether a message passes the grep.
func (s *scan) match(msg []byte) bool {
	if s.grep == nil {
		return true
	}
	if s.lits != nil && !containsAny(msg, s.lits) {
		return false
	}
	return s.grep.Match(msg)
}

var streamNames = [3]string{"", "stdout", "stderr"}

// merger puts the chunks' messages together, in order: the cut at since and
// until as the engine makes it (the first message at or after since starts
// the read, whatever the times after it; the first after until ends it),
// long lines joined from their parts, and the grep on joined lines.
type merger struct {
	s         *scan
	sinceOpen bool     // since is set and no message reached it yet
	pending   [3]*Line // a stream's parts of a long line so far
	out       []Line
}

// add takes the messages of a chunk; it reports that the read ends.
func (m *merger) add(recs []rec) bool {
	s := m.s
	m.out = make([]Line, 0, len(recs)) // at most a line a message
	for i := range recs {
		r := &recs[i]
		if m.sinceOpen {
			if r.t.Before(s.since) {
				continue
			}
			m.sinceOpen = !s.resetSince
		}
		if !s.until.IsZero() && r.t.After(s.until) {
			return true
		}
		if s.selected(r.stream) {
			m.message(r)
		}
	}
	return false
}

func (m *merger) message(r *rec) {
	p := m.pending[r.stream]
	if !r.full {
		if p == nil {
			p = &Line{Stream: streamNames[r.stream], Time: r.t}
			m.pending[r.stream] = p
		}
		p.Line = append(p.Line, r.msg...)
		if len(p.Line) >= MaxLine {
			// As Reader: what a line without its end wrote so far is one.
			m.pending[r.stream] = nil
			m.keep(p)
		}
		return
	}
	if p != nil {
		m.pending[r.stream] = nil
		p.Line = append(p.Line, r.msg...)
		m.keep(p)
		return
	}
	if r.match {
		m.out = append(m.out, Line{Stream: streamNames[r.stream], Time: r.t, Line: r.msg})
	}
}

func (m *merger) keep(l *Line) {
	if m.s.grep == nil || m.s.grep.Match(l.Line) {
		m.out = append(m.out, *l)
	}
}

// flush ends the lines still in parts at the end of the read, as Reader
// does at the end of the engine's stream.
func (m *merger) flush() {
	for _, st := range []uint8{streamStdout, streamStderr} {
		if p := m.pending[st]; p != nil {
			m.pending[st] = nil
			m.keep(p)
		}
	}
}

// read scans lf from since to until (found by binary search) and closes it.
func (s *scan) read(ctx context.Context, lf *logFiles, emit func([]Line) bool) error {
	defer lf.Close()
	parts, err := lf.parts(s.since, s.until)
	if err != nil {
		return err
	}
	s.parts = parts
	return s.run(ctx, emit)
}
