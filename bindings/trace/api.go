package trace

import (
	"context"
	"sync"
)

// Trace opens a Tracer for o, calls fn with each event until fn returns
// false or ctx ends, and detaches everything before it returns. It is the
// Go form of the Lua iterators, for callers outside Lua (the journal's
// recorder, `ctrsh top`).
func Trace(ctx context.Context, o Options, fn func(Event) bool) error {
	t, err := Open(o)
	if err != nil {
		return err
	}
	defer t.Close()
	return t.Run(ctx, fn)
}

// OOMVictims calls fn with each victim of the OOM killer in the given
// containers (every container when ids is empty): Kind KindOOM with PID,
// PIDInside, Comm, UID, ContainerID, Container (when names is set), Memcg,
// OOMScoreAdj and the invoking task ByPID/ByComm; and KindLost when the
// kernel dropped events. It returns when ctx ends or fn returns false.
// Errors matching ErrUnavailable mean the kernel cannot tell (no BPF or BTF,
// or a kernel before 6.8 whose mark_victim tracepoint passes only a pid).
func OOMVictims(ctx context.Context, ids []string, names func(id string) string, fn func(Event) bool) error {
	return Trace(ctx, Options{Kinds: []Kind{KindOOM}, Containers: ids, Names: names}, fn)
}

// Recent keeps the last events of each container: the detail view of
// `ctrsh top` asks it for the last execs of the container it shows.
type Recent struct {
	mu   sync.Mutex
	keep int
	byID map[string][]Event // oldest first, at most keep
}

// NewRecent keeps the last keep events of each container.
func NewRecent(keep int) *Recent {
	if keep < 1 {
		keep = 1
	}
	return &Recent{keep: keep, byID: map[string][]Event{}}
}

// Add records ev under its container (events without one, and lost
// notices, are not kept).
func (r *Recent) Add(ev Event) {
	if ev.ContainerID == "" || ev.Kind == KindLost {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l := append(r.byID[ev.ContainerID], ev)
	if len(l) > r.keep {
		l = append(l[:0:0], l[len(l)-r.keep:]...)
	}
	r.byID[ev.ContainerID] = l
}

// Last returns up to n of the container's most recent events, oldest
// first.
func (r *Recent) Last(containerID string, n int) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.byID[containerID]
	if n >= 0 && len(l) > n {
		l = l[len(l)-n:]
	}
	return append([]Event(nil), l...)
}

// Forget drops what is kept of a container (one that was removed).
func (r *Recent) Forget(containerID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byID, containerID)
}

// WatchExecs traces the execs of every container in the background and
// keeps the last keep of each: "last N execs of container X" is
// r.Last(id, N). It returns at once; tracing stops when ctx ends, and done
// then receives Run's error (nil on a normal stop). An error from
// WatchExecs itself (matching ErrUnavailable when the kernel cannot trace)
// means nothing runs: `ctrsh top` then leaves the execs out.
func WatchExecs(ctx context.Context, keep int, names func(id string) string) (r *Recent, done <-chan error, err error) {
	t, err := Open(Options{Kinds: []Kind{KindExec}, Names: names})
	if err != nil {
		return nil, nil, err
	}
	r = NewRecent(keep)
	ch := make(chan error, 1)
	go func() {
		defer t.Close()
		ch <- t.Run(ctx, func(ev Event) bool {
			r.Add(ev)
			return true
		})
	}()
	return r, ch, nil
}
