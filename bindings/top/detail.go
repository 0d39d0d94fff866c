package top

import (
	"context"
	"sync"
	"time"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/logs"
	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/bindings/trace"
)

// Detail is what the view shows of one container after Enter: its
// processes (host PID and PID inside), its last log lines and, when the
// kernel can trace, the last programs it executed.
type Detail struct {
	ID       string
	Procs    []proc.TopRow
	ProcsErr error
	Logs     []logs.Line
	LogsErr  error
	Execs    []trace.Event
	// ExecsNote says why there are no execs: tracing not available, or
	// not started.
	ExecsNote string
}

// Detail sizes: the log lines and execs kept.
const (
	DetailLogLines = 10
	DetailExecs    = 8
)

// Execs is where the detail view finds a container's last execs: a
// trace.Recent fed by trace.WatchExecs, or nil with the reason.
type Execs struct {
	Recent *trace.Recent
	Note   string
}

// Lookup finds a container by id, for its detail (its log lines).
type Lookup func(ctx context.Context, id string) (*docker.Container, error)

// DockerDetail loads details of the containers of e (see Details).
func DockerDetail(ctx context.Context, e *docker.Engine, root string, ex func() Execs) func(r Row) *Detail {
	return Details(ctx, func(ctx context.Context, id string) (*docker.Container, error) {
		return docker.Lookup(ctx, e, id)
	}, root, ex)
}

// Details loads details: processes from the cgroup and /proc below root,
// log lines of the container lookup finds (from the engine, or from disk
// when it does not answer), execs from ex.
func Details(ctx context.Context, lookup Lookup, root string, ex func() Execs) func(r Row) *Detail {
	return func(r Row) *Detail {
		ctx, cancel := context.WithTimeout(ctx, ListTimeout)
		defer cancel()
		d := &Detail{ID: r.ID}
		d.Procs, d.ProcsErr = processes(ctx, root, r)
		d.Logs, d.LogsErr = lastLogs(ctx, lookup, r.ID)
		if x := ex(); x.Recent != nil {
			d.Execs = x.Recent.Last(r.ID, DetailExecs)
		} else {
			d.ExecsNote = x.Note
		}
		return d
	}
}

// processes reads the container's processes: those of its cgroup, else
// every process of /proc whose cgroup names the container.
func processes(ctx context.Context, root string, r Row) ([]proc.TopRow, error) {
	fs, err := proc.NewFS(root)
	if err != nil {
		return nil, err
	}
	if cg, err := cgroup.ForPID(root, r.PID); err == nil {
		if pids, err := cg.Procs(); err == nil && len(pids) > 0 {
			if rows, err := fs.TopPIDs(ctx, pids); err == nil && len(rows) > 0 {
				return rows, nil
			}
		}
	}
	return fs.Top(ctx, r.ID)
}

// lastLogs reads the container's last log lines.
func lastLogs(ctx context.Context, lookup Lookup, id string) ([]logs.Line, error) {
	c, err := lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return logs.Last(ctx, c, DetailLogLines)
}

// WatchExecs starts tracing execs in the background for the detail view;
// the returned func says what is known so far (tracing takes a moment to
// attach, and needs root and a kernel with BPF).
func WatchExecs(ctx context.Context, names func(id string) string) func() Execs {
	ch := make(chan Execs, 1)
	go func() {
		r, _, err := trace.WatchExecs(ctx, 64, names)
		if err != nil {
			ch <- Execs{Note: err.Error()}
			return
		}
		ch <- Execs{Recent: r}
	}()
	var (
		mu  sync.Mutex
		got *Execs
	)
	return func() Execs {
		mu.Lock()
		defer mu.Unlock()
		if got == nil {
			select {
			case x := <-ch:
				got = &x
			default:
				return Execs{Note: "tracing is starting"}
			}
		}
		return *got
	}
}

// NoExecs is the Execs of a view that does not trace.
func NoExecs(why string) func() Execs {
	return func() Execs { return Execs{Note: why} }
}

// stamp shows a time of day in loc.
func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "        "
	}
	return t.In(loc).Format("15:04:05")
}
