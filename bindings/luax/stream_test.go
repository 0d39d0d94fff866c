package luax

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// blocking is a producer that sends one value and then waits for its
// stream to be released, counting how many are running.
type blocking struct{ running atomic.Int64 }

func (b *blocking) produce(sink *Sink[int]) error {
	b.running.Add(1)
	defer b.running.Add(-1)
	sink.Send(1)
	<-sink.Context().Done()
	return sink.Context().Err()
}

func (b *blocking) open(L *lua.LState) *Stream[int] {
	return NewStream(L, 4, b.produce, func(L *lua.LState, v int) lua.LValue { return lua.LNumber(v) })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// An iterator nothing refers to any more releases its producer after a
// garbage collection, through the cleanup alone (no Sweep, no bound).
func TestAbandonedStreamReleasedByGC(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var b blocking
	func() {
		s := b.open(L)
		if v, ok, err := s.Next(L); !ok || err != nil || v != 1 {
			t.Fatalf("Next = %v, %v, %v", v, ok, err)
		}
	}()
	if b.running.Load() != 1 {
		t.Fatalf("%d producers running, want 1", b.running.Load())
	}
	waitFor(t, "the abandoned stream's producer to stop", func() bool { return b.running.Load() == 0 })
}

// Sweep, right after a collection, releases and waits: nothing abandoned is
// running when it returns, even the stream of the last loop left with break
// in the same chunk (its close function stays in the loop's registers).
func TestSweepReleasesAtOnce(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var b blocking
	L.SetGlobal("open", L.NewFunction(func(L *lua.LState) int { return b.open(L).Push(L) }))
	L.SetGlobal("running", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(b.running.Load()))
		return 1
	}))
	L.SetGlobal("sweep", L.NewFunction(func(L *lua.LState) int { runtime.GC(); Sweep(L); return 0 }))
	if err := L.DoString(`
		for i = 1, 5 do
			for v in open() do n = v break end
		end
		keep = open()
		before = running()
		sweep()
		after = running()
	`); err != nil {
		t.Fatal(err)
	}
	// (A collection may already have released some of the five.)
	if n := L.GetGlobal("before").(lua.LNumber); n < 1 || n > 6 {
		t.Errorf("%v producers running before the collection, want 1 to 6", n)
	}
	if n := L.GetGlobal("after").(lua.LNumber); n != 1 {
		t.Errorf("%v producers running after the collection, want 1 (the one kept in a global)", n)
	}
	if bounded, all := OpenResources(L); bounded != 1 || all != 1 {
		t.Errorf("OpenResources = %d, %d; want 1, 1", bounded, all)
	}
}

// However many streams a state opens and keeps, at most MaxOpenStreams
// run; the least recently read goes first and says why when read again.
func TestStreamBoundClosesLeastRecentlyRead(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var b blocking
	var streams []*Stream[int]
	for i := 0; i < MaxOpenStreams; i++ {
		streams = append(streams, b.open(L))
	}
	streams[0].Next(L) // read: now the most recently used
	for i := 0; i < 5; i++ {
		streams = append(streams, b.open(L))
		if n := b.running.Load(); n > int64(MaxOpenStreams) {
			t.Fatalf("%d producers running, want at most %d", n, MaxOpenStreams)
		}
	}
	if streams[0].st.closed.Load() {
		t.Errorf("the stream read last was closed")
	}
	for _, s := range streams[1:6] {
		_, ok, err := s.Next(L)
		if ok || !errors.Is(err, ErrTooManyStreams) {
			t.Errorf("an evicted stream: Next = %v, %v; want %v", ok, err, ErrTooManyStreams)
		}
	}
	for _, s := range streams[6:] {
		if v, ok, err := s.Next(L); !ok || err != nil || v != 1 {
			t.Errorf("a newer stream: Next = %v, %v, %v", v, ok, err)
		}
	}
	runtime.KeepAlive(streams)
}

// close() releases at once, and reading after it is the end, not an error.
func TestStreamCloseEndsIt(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var b blocking
	s := b.open(L)
	s.Close()
	if b.running.Load() != 0 {
		t.Errorf("producer still running after Close")
	}
	if _, ok, err := s.Next(L); ok || err != nil {
		t.Errorf("Next after Close = %v, %v; want the end", ok, err)
	}
	if bounded, _ := OpenResources(L); bounded != 0 {
		t.Errorf("%d streams open after Close", bounded)
	}
}

// A loop left with break inside a function that returned, or inside a
// pcall, leaves the iterator in call frames above the caller's (gopher-lua
// keeps popped frames as they were): collectgarbage() still releases it.
func TestSweepReachesIteratorsOfReturnedCalls(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	OpenProtected(L)
	var b blocking
	L.SetGlobal("open", L.NewFunction(func(L *lua.LState) int { return b.open(L).Push(L) }))
	L.SetGlobal("running", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(b.running.Load()))
		return 1
	}))
	L.SetGlobal("sweep", L.NewFunction(func(L *lua.LState) int { Collect(L); return 0 }))
	if err := L.DoString(`
		local function leave() for v in open() do n = v break end end
		local function deeper(k) if k == 0 then return leave() end deeper(k - 1) end
		leave()
		deeper(10)
		pcall(leave)
		pcall(deeper, 5)
		sweep()
		after = running()
	`); err != nil {
		t.Fatal(err)
	}
	if n := L.GetGlobal("after").(lua.LNumber); n != 0 {
		t.Errorf("%v producers running after the collection, want 0", n)
	}
}
