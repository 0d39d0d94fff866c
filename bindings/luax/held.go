package luax

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// MaxOpenStreams bounds the streams (c:logs, events.stream: each an engine
// connection, and in the engine a file and an inotify instance) that one
// Lua state holds open at once. Opening one more closes the least recently
// read first, so a script that abandons streams in a loop holds at most this
// many, however long it runs.
var MaxOpenStreams = 16

// ErrTooManyStreams is wrapped by the error a stream closed to make room
// for a new one raises when it is read again.
var ErrTooManyStreams = errors.New("too many streams open")

func tooManyStreams() error {
	return fmt.Errorf("stream closed: %w: more than %d in this state, and this one was the least recently read (close() the streams you leave)", ErrTooManyStreams, MaxOpenStreams)
}

// errCollected is why a resource whose owner was collected was released.
var errCollected = errors.New("released: no Lua value refers to it any more")

// Resource is something a Lua state holds open for Lua values: a stream's
// engine connection and reader goroutine, a TCP connection.
type Resource interface {
	// Release frees it: why is nil for an explicit close, else the reason
	// (the owner reports it if it is used again). With wait it returns once
	// the resource is freed, which only the Lua goroutine may wait for;
	// without, it must not block (it runs from a GC cleanup).
	Release(why error, wait bool)
	// Released reports whether it was freed, or ended by itself.
	Released() bool
}

// Held is a resource registered with Hold.
type Held struct {
	hs      *holdings
	res     Resource
	alive   func() bool // false once the owner was collected
	bounded bool
	used    uint64
}

// Touch marks the resource as used now (a stream read): the least recently
// used one is closed first when there are too many.
func (h *Held) Touch() {
	h.hs.mu.Lock()
	h.hs.tick++
	h.used = h.hs.tick
	h.hs.mu.Unlock()
}

// holdings are the resources of one Lua state (shared by its coroutines).
type holdings struct {
	mu   sync.Mutex
	tick uint64
	list []*Held
}

const holdingsKey = "ctrsh.holdings"

func holdingsOf(L *lua.LState) *holdings {
	if ud, ok := L.G.Registry.RawGetString(holdingsKey).(*lua.LUserData); ok {
		if hs, ok := ud.Value.(*holdings); ok {
			return hs
		}
	}
	hs := &holdings{}
	ud := L.NewUserData()
	ud.Value = hs
	L.G.Registry.RawSetString(holdingsKey, ud)
	return hs
}

// Hold ties res to owner, the Go value that the Lua values using res refer
// to (a userdata's Value, the state an iterator closure captures). Lua has
// no way to say it is done with a value (a loop left with break runs no
// __close in Lua 5.1, and nothing calls the iterator again), so res is
// released, whichever comes first:
//   - explicitly, by its owner (close());
//   - when owner is collected: runtime.AddCleanup after any garbage
//     collection, and at once in collectgarbage() (Sweep);
//   - when it is bounded and MaxOpenStreams bounded resources are open:
//     the least recently used one (Touch) is released to make room;
//   - when the statement that opened it ends (its producer's context).
//
// res and its cleanup must not refer to owner, or owner is never collected.
func Hold[T any](L *lua.LState, owner *T, res Resource, bounded bool) *Held {
	wp := weak.Make(owner)
	h := &Held{hs: holdingsOf(L), res: res, alive: func() bool { return wp.Value() != nil }, bounded: bounded}
	runtime.AddCleanup(owner, func(res Resource) { res.Release(errCollected, false) }, res)
	hs := h.hs
	var evict []Resource
	hs.mu.Lock()
	hs.tick++
	h.used = hs.tick
	collected := hs.pruneLocked()
	if bounded {
		open := 0
		for _, e := range hs.list {
			if e.bounded {
				open++
			}
		}
		for ; open >= MaxOpenStreams; open-- {
			i := hs.lruLocked()
			evict = append(evict, hs.list[i].res)
			hs.list = append(hs.list[:i], hs.list[i+1:]...)
		}
	}
	hs.list = append(hs.list, h)
	hs.mu.Unlock()
	for _, r := range collected {
		r.Release(errCollected, true)
	}
	for _, r := range evict {
		r.Release(tooManyStreams(), true)
	}
	return h
}

// pruneLocked drops the resources that were released, and returns those
// whose owner was collected (to release).
func (hs *holdings) pruneLocked() (collected []Resource) {
	keep := hs.list[:0]
	for _, h := range hs.list {
		switch {
		case h.res.Released():
		case !h.alive():
			collected = append(collected, h.res)
		default:
			keep = append(keep, h)
		}
	}
	clear(hs.list[len(keep):])
	hs.list = keep
	return collected
}

// lruLocked is the index of the least recently used bounded resource.
func (hs *holdings) lruLocked() int {
	best := -1
	for i, h := range hs.list {
		if h.bounded && (best < 0 || h.used < hs.list[best].used) {
			best = i
		}
	}
	return best
}

// Sweep releases, and waits for, every resource of L whose owner was
// collected. collectgarbage() calls it right after a garbage collection, so
// that an abandoned stream's connection is closed when it returns (GC
// cleanups run later, on a goroutine of their own).
func Sweep(L *lua.LState) {
	hs := holdingsOf(L)
	hs.mu.Lock()
	collected := hs.pruneLocked()
	hs.mu.Unlock()
	for _, r := range collected {
		r.Release(errCollected, true)
	}
}

// Collect is collectgarbage(): it runs a full garbage collection and
// releases, and waits for, what it found unreachable (Sweep).
//
// gopher-lua keeps a call's frame in its state's call stack, as it was,
// after the call returned, until a call at the same depth overwrites it: an
// iterator called from a loop, left with break, in a function that has
// returned since, stays reachable from the frame above the caller's. So
// before collecting, Collect overwrites the frames above its own with
// calls of a function that refers to nothing (as many as the stack allows,
// at most staleFrames), and forgets the threads kept for protected calls
// (whose frames are the same; new ones are made when needed).
func Collect(L *lua.LState) {
	depth := 0
	for ; ; depth++ {
		if _, ok := L.GetStack(depth); !ok {
			break
		}
	}
	limit := L.Options.CallStackSize
	if limit <= 0 {
		limit = lua.CallStackSize
	}
	if n := min(staleFrames, limit-depth-2); n > 0 {
		var fill *lua.LFunction
		fill = L.NewFunction(func(L *lua.LState) int {
			if n := L.ToInt(1); n > 1 {
				L.Push(fill)
				L.Push(lua.LNumber(n - 1))
				L.Call(1, 0)
			}
			return 0
		})
		L.Push(fill)
		L.Push(lua.LNumber(n))
		L.Call(1, 0)
	}
	if ud, ok := L.G.Registry.RawGetString(protectedKey).(*lua.LUserData); ok {
		if p, ok := ud.Value.(*protected); ok {
			// (Popping leaves the slices' spare elements as they were.)
			clear(p.free[:cap(p.free)])
			p.free = p.free[:0]
			clear(p.active[len(p.active):cap(p.active)])
		}
	}
	runtime.GC()
	Sweep(L)
}

// staleFrames bounds the call frames above its own that Collect clears.
const staleFrames = 100

// OpenResources counts the resources of L not released yet: bounded ones
// (streams) and all.
func OpenResources(L *lua.LState) (bounded, all int) {
	hs := holdingsOf(L)
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for _, h := range hs.list {
		if !h.res.Released() {
			all++
			if h.bounded {
				bounded++
			}
		}
	}
	return bounded, all
}
