package luax

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress is the one line on a terminal's standard error that says how
// far work over many containers has come (docker.stats{interval=},
// log-errors, diag-bundle) once it has taken more than a second. It is
// never in the data: it goes to standard error, and the writers Guard
// returns erase it before anything else is written to the terminal. Off a
// terminal there is none (a nil *Progress does nothing).
type Progress struct {
	w     io.Writer
	width func() int // the terminal's width; 0: unknown

	mu      sync.Mutex
	shown   bool      // the line is on the screen
	started time.Time // the job's start; zero when none runs
	drawn   time.Time
	line    string
	now     func() time.Time
}

// ProgressDelay is how long a job runs before its line shows, and
// progressEvery how often the line is redrawn at most.
var ProgressDelay = time.Second

const progressEvery = 100 * time.Millisecond

// NewProgress draws on w, a terminal width() columns wide.
func NewProgress(w io.Writer, width func() int) *Progress {
	return &Progress{w: w, width: width, now: time.Now}
}

// Update says that done of total steps of a job are done; what names the
// job or its current step ("log-errors web-3"). done >= total ends the
// job and erases the line.
func (p *Progress) Update(what string, done, total int) {
	if done >= total {
		p.Done()
		return
	}
	p.show(fmt.Sprintf("%s %d/%d", EscapeLine(what), done, total))
}

// Wait shows what a job of a known duration is doing while it waits
// ("docker.stats: 20 containers, 1.2s of 2s"); the returned func ends it.
func (p *Progress) Wait(what string, d time.Duration) (stop func()) {
	if p == nil || d < ProgressDelay {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			p.show(fmt.Sprintf("%s, %.1fs of %s", EscapeLine(what), time.Since(start).Seconds(), d))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		p.Done()
	}
}

// show draws line, once the job has run ProgressDelay, at most every
// progressEvery.
func (p *Progress) show(line string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.started.IsZero() {
		p.started = now
	}
	p.line = line
	if now.Sub(p.started) < ProgressDelay || now.Sub(p.drawn) < progressEvery {
		return
	}
	p.drawn = now
	if w := p.width(); w > 1 && len([]rune(line)) > w-1 {
		line = string([]rune(line)[:w-2]) + "…"
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.shown = true
}

// Done ends the job: the line is erased.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.started, p.line = time.Time{}, ""
}

// clear erases the line if it is on the screen; p.mu is held.
func (p *Progress) clear() {
	if p.shown {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = false
		p.drawn = time.Time{}
	}
}

// Guard returns w that erases the line before each write to it: ctrsh's
// standard output and error when they are the terminal the line is on.
func (p *Progress) Guard(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return &progressGuard{p: p, w: w}
}

type progressGuard struct {
	p *Progress
	w io.Writer
}

func (g *progressGuard) Write(b []byte) (int, error) {
	g.p.mu.Lock()
	g.p.clear()
	g.p.mu.Unlock()
	return g.w.Write(b)
}

// Fd is the file descriptor of the terminal written to, for what asks
// its size.
func (g *progressGuard) Fd() uintptr {
	if f, ok := g.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// Underlying is the writer the guard writes to.
func (g *progressGuard) Underlying() io.Writer { return g.w }
