package luax

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// Sink is the producer's end of a Stream: the goroutine that reads the
// engine (events, logs) hands its values to Lua through it.
type Sink[T any] struct {
	ctx context.Context
	ch  chan T
}

// Send queues v, waiting while the queue is full. It returns false when the
// stream was closed or its statement ended: the producer should return.
func (s *Sink[T]) Send(v T) bool {
	select {
	case s.ch <- v:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// TrySend queues v when there is room and reports whether it did; it never
// waits (a reader that must not block, like the event stream's, counts what
// it could not queue and says so later).
func (s *Sink[T]) TrySend(v T) bool {
	select {
	case s.ch <- v:
		return true
	default:
		return false
	}
}

// Context is the stream's context: done when the stream was closed or the
// statement that opened it ended.
func (s *Sink[T]) Context() context.Context { return s.ctx }

// Stream is a Go producer seen from Lua as an iterator. The producer runs in
// its own goroutine and sends Go values over a bounded channel; the iterator,
// on the Lua goroutine, receives them and converts them to Lua values there
// (an LState belongs to one goroutine).
//
// A loop left with break never calls the iterator again (Lua 5.1 has no
// __close), so the stream cannot wait to be told: the producer, and the
// engine connection it reads, stop at the first of close(), the collection
// of the iterator and close functions (the Stream is their only way to the
// producer: see Hold), MaxOpenStreams newer streams in the same state, and
// the end of the statement that opened it (Ctrl-C, --timeout, the end of
// the shell's line).
type Stream[T any] struct {
	sink    *Sink[T]
	st      *streamState
	opened  context.Context // the statement's context at open
	convert func(L *lua.LState, v T) lua.LValue
	held    *Held
}

// streamState is the part of a stream its producer goroutine and its GC
// cleanup share. It must not refer to the Stream, whose collection means
// that Lua abandoned the stream.
type streamState struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the producer returned
	closed atomic.Bool   // released: the iterator ends at once
	mu     sync.Mutex
	why    error // why it was released, when not by close()
	err    error // the producer's error
}

// Release stops the producer (and with wait, waits for it to return).
func (st *streamState) Release(why error, wait bool) {
	st.mu.Lock()
	if !st.closed.Load() {
		st.why = why
		st.closed.Store(true)
	}
	st.mu.Unlock()
	st.cancel()
	if wait {
		<-st.done
	}
}

// Released reports whether the producer returned.
func (st *streamState) Released() bool {
	select {
	case <-st.done:
		return true
	default:
		return false
	}
}

// NewStream starts produce in a goroutine with a queue of size values and
// returns the stream. produce returns when it has nothing more to send (nil),
// on failure (its error ends the Lua loop with that error), or when
// sink.Send returns false. convert runs on the Lua goroutine only. Neither
// may refer to the Stream.
func NewStream[T any](L *lua.LState, size int, produce func(sink *Sink[T]) error, convert func(L *lua.LState, v T) lua.LValue) *Stream[T] {
	if size < 1 {
		size = 1
	}
	opened := Ctx(L)
	ctx, cancel := context.WithCancel(opened)
	sink := &Sink[T]{ctx: ctx, ch: make(chan T, size)}
	st := &streamState{cancel: cancel, done: make(chan struct{})}
	// The goroutine refers to the sink and the state only.
	go func() {
		defer close(st.done)
		defer close(sink.ch)
		err := produce(sink)
		st.mu.Lock()
		st.err = err
		st.mu.Unlock()
	}()
	s := &Stream[T]{sink: sink, st: st, opened: opened, convert: convert}
	s.held = Hold(L, s, st, true)
	return s
}

// Close stops the producer and waits for it to return.
func (s *Stream[T]) Close() {
	s.st.Release(nil, true)
}

// Next waits for the next value. ok is false at the end of the stream, with
// err set when the producer failed (not when the stream was closed), or
// when the stream was closed to make room for newer ones. A cancelled
// statement raises, as CheckCancel does.
func (s *Stream[T]) Next(L *lua.LState) (v T, ok bool, err error) {
	cur := Ctx(L)
	if s.st.closed.Load() {
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		return v, false, s.st.why
	}
	s.held.Touch()
	if len(s.sink.ch) == 0 {
		Flush(L) // about to wait: rows emitted so far appear now
	}
	select {
	case v, ok = <-s.sink.ch:
		if ok {
			return v, true, nil
		}
	case <-cur.Done():
		s.Close()
		CheckCancel(L)
		var zero T
		return zero, false, cur.Err()
	}
	<-s.st.done
	s.st.mu.Lock()
	err, why := s.st.err, s.st.why
	s.st.mu.Unlock()
	if why != nil {
		return v, false, why
	}
	if err != nil && s.sink.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// Closed by Close or by the end of the statement that opened it.
		if s.opened.Err() != nil && cur != s.opened && cur.Err() == nil {
			return v, false, errors.New("stream ended with the statement that opened it")
		}
		CheckCancel(L)
		err = nil
	}
	return v, false, err
}

// Iterator returns the Lua iterator function of the stream: each call
// returns the next value converted, nil at the end, and raises the
// producer's error.
func (s *Stream[T]) Iterator(L *lua.LState) *lua.LFunction {
	return Function(L, "iterator", func(L *lua.LState) int {
		v, ok, err := s.Next(L)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(s.convert(L, v))
		return 1
	})
}

// CloseFunc returns a Lua function that closes the stream. It refers to the
// producer's state, not to the Stream: the close function alone (what a
// loop left with break leaves in its state register) does not keep an
// abandoned stream from being collected.
func (s *Stream[T]) CloseFunc(L *lua.LState) *lua.LFunction {
	st := s.st
	return Function(L, "close", func(L *lua.LState) int {
		st.Release(nil, true)
		return 0
	})
}

// Push pushes the iterator and the close function and returns 2: in
// `for v in stream` the close function is the (ignored) state argument;
// `local next, close = stream` keeps it for an explicit close.
func (s *Stream[T]) Push(L *lua.LState) int {
	L.Push(s.Iterator(L))
	L.Push(s.CloseFunc(L))
	return 2
}
