package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/client"
)

// CallTimeout bounds every engine call that a fallback guards (the
// container list, inspect, info, logs until the first byte) and every
// short one (pause, unpause, kill, exec's setup): an engine that is
// connected but silent for this long is not answering.
var CallTimeout = 2 * time.Second

// ProbeGrace is how long a call waits for a probe of an engine already
// known not to answer before it takes the fallback: an engine that has
// come back answers a ping in well under this, a frozen one never does,
// and the call must not pay CallTimeout again each time.
var ProbeGrace = 200 * time.Millisecond

// ErrNotAnswering is wrapped by the errors of calls to an engine that is
// down (nothing listens) or silent (connected, but no answer within
// CallTimeout).
var ErrNotAnswering = errors.New("engine not answering")

// notAnswering is the error of a call to an engine that is not answering.
// Its text is the one unreachable engines always had:
// `docker engine unix:///x.sock: not reachable: <why>`.
type notAnswering struct {
	host string
	why  string
}

func (e *notAnswering) Error() string {
	return fmt.Sprintf("docker engine %s: not reachable: %s", e.host, e.why)
}

func (e *notAnswering) Unwrap() error { return ErrNotAnswering }

// health is what an Engine knows of whether its engine answers: nothing
// (down == nil) until a call fails to reach it, then the reason, until a
// probe or a call gets an answer again. One probe at a time runs in the
// background, so a call never waits for a silent engine longer than
// ProbeGrace once it is known to be silent.
type health struct {
	mu      sync.Mutex
	down    *notAnswering
	probe   chan struct{} // closed when the probe in flight ends; nil when none
	episode int           // counts the times the engine went from answering to not
	said    int           // the episode last announced on stderr
	back    bool          // it answered again after an announced episode
	used    int           // the episode in which the state on disk was read
	root    string        // the data root read then
}

// fellBack records that the state on disk (data root root) was read
// instead of the engine.
func (e *Engine) fellBack(root string) {
	e.health.mu.Lock()
	defer e.health.mu.Unlock()
	e.health.used, e.health.root = e.health.episode, root
}

// NotAnswering reports whether err says that the engine is not answering.
func NotAnswering(err error) bool { return errors.Is(err, ErrNotAnswering) }

// Down returns why the engine is not answering, or nil when it is not
// known to be down.
func (e *Engine) Down() error {
	e.health.mu.Lock()
	defer e.health.mu.Unlock()
	if e.health.down == nil {
		return nil
	}
	return e.health.down
}

func (e *Engine) markDown(why string) *notAnswering {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down == nil {
		h.episode++
	}
	h.down = &notAnswering{host: e.Host, why: why}
	return h.down
}

func (e *Engine) markUp() {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil && h.said == h.episode && h.said > 0 {
		h.back = true
	}
	h.down = nil
}

// Answering returns nil when the engine is not known to be down. When it
// is, it probes it (one ping in the background, bounded by PingTimeout)
// and waits up to wait for the answer: nil if the engine answered, else
// the error that says why it does not.
func (e *Engine) Answering(ctx context.Context, wait time.Duration) error {
	h := &e.health
	h.mu.Lock()
	if h.down == nil {
		h.mu.Unlock()
		return nil
	}
	if h.probe == nil {
		done := make(chan struct{})
		h.probe = done
		go e.runProbe(done)
	}
	done := h.probe
	h.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return e.Down()
}

// runProbe pings the engine once, outside any statement's context, and
// records the outcome.
func (e *Engine) runProbe(done chan struct{}) {
	defer func() {
		e.health.mu.Lock()
		e.health.probe = nil
		e.health.mu.Unlock()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	if _, err := e.Client.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		if why, ok := unreachable(err); ok {
			e.markDown(why)
		}
		return
	}
	e.markUp()
}

// call runs one engine call bounded by limit (0: only by ctx). When the
// engine is known not to answer, it first probes it (see Answering) and
// fails at once if it still does not. A failure to reach the engine, or
// silence until limit, marks it not answering and returns a
// notAnswering error; other errors (the engine's own) are returned as
// they are. The caller's own end (Ctrl-C, --timeout) is returned as
// ctx.Err().
func (e *Engine) call(ctx context.Context, limit time.Duration, fn func(ctx context.Context) error) error {
	if err := e.Answering(ctx, ProbeGrace); err != nil {
		return err
	}
	cctx := ctx
	if limit > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	err := fn(cctx)
	if err == nil {
		e.markUp()
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) && limit > 0 {
		return e.markDown("no answer within " + limit.String())
	}
	if why, ok := unreachable(err); ok {
		return e.markDown(why)
	}
	return err
}

// unreachable says whether err is a failure to reach the engine (nothing
// listens, the connection broke, no answer in time), and why in a few
// words. A refused permission is not: the engine may well answer others.
func unreachable(err error) (string, bool) {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EACCES) {
		return "", false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within " + PingTimeout.String(), true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error(), true
	}
	if client.IsErrConnectionFailed(err) {
		if errors.Is(err, os.ErrPermission) {
			return "", false
		}
		return err.Error(), true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return err.Error(), true
	}
	return "", false
}

// Notices returns what to say on stderr about the engine since the last
// call: once each time it stops answering and a call reads its state on
// disk instead, and once when it answers again after that.
func (e *Engine) Notices() []string {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	if h.down != nil && h.used == h.episode && h.said != h.episode {
		h.said = h.episode
		h.back = false
		out = append(out, fmt.Sprintf("%s; reading container state from disk (%s) until it answers", h.down.Error(), h.root))
	}
	if h.back && h.down == nil {
		h.back = false
		out = append(out, fmt.Sprintf("docker engine %s answers again", e.Host))
	}
	return out
}

// Open runs a call that opens a stream (logs, events): it must answer
// within CallTimeout, but the stream it returns lives on, until ctx ends or
// it is closed. When the engine does not answer in time, or is known not
// to, the error wraps ErrNotAnswering.
func (e *Engine) Open(ctx context.Context, fn func(ctx context.Context) (io.ReadCloser, error)) (io.ReadCloser, error) {
	if err := e.Answering(ctx, ProbeGrace); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	late := time.AfterFunc(CallTimeout, cancel)
	rc, err := fn(sctx)
	inTime := late.Stop()
	if err == nil && inTime {
		e.markUp()
		return &closeBoth{ReadCloser: rc, cancel: cancel}, nil
	}
	cancel()
	if rc != nil {
		rc.Close()
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if !inTime {
		return nil, e.markDown("no answer within " + CallTimeout.String())
	}
	if why, ok := unreachable(err); ok {
		return nil, e.markDown(why)
	}
	return nil, err
}

// closeBoth closes a stream and ends the context of its request.
type closeBoth struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *closeBoth) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
