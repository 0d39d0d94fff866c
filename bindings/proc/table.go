package proc

import (
	"context"
	"errors"
	"strings"
)

// Filter selects the processes of a Table. The zero Filter selects all.
type Filter struct {
	PIDs        []int  // only these PIDs (nil: every PID in /proc)
	PPID        int    // only children of this PID (0: any)
	ContainerID string // only the processes of this container: a full id or a unique prefix of one
	InContainer bool   // only processes that belong to a container
	// Comm, when set, keeps the processes whose comm it accepts.
	Comm func(comm string) bool
	// Status and Cmdline ask for /proc/PID/status (NSpid, ids, the Status
	// lines) and the command line; Table always reads stat, and cgroup when
	// a container filter is set or Cgroup is true.
	Status, Cmdline, Cgroup bool
}

// Table reads the processes that f selects in one pass over /proc: per PID,
// stat, cgroup, status and cmdline are each read at most once, and a PID
// that a cheaper file already excludes is not read further. Processes that
// exit during the pass are left out. ctx is checked between PIDs.
func (fs *FS) Table(ctx context.Context, f Filter) ([]*Process, error) {
	pids := f.PIDs
	if pids == nil {
		var err error
		if pids, err = fs.PIDs(); err != nil {
			return nil, err
		}
	}
	byContainer := f.ContainerID != "" || f.InContainer
	out := make([]*Process, 0, len(pids))
	for i, pid := range pids {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p, err := fs.load(pid, parts{})
		if err != nil {
			if errors.Is(err, ErrNoProcess) {
				continue
			}
			return nil, err
		}
		if f.PPID != 0 && p.PPID != f.PPID {
			continue
		}
		if f.Comm != nil && !f.Comm(p.Comm) {
			continue
		}
		if byContainer || f.Cgroup {
			if err := fs.loadCgroup(p); err != nil {
				if errors.Is(err, ErrNoProcess) {
					continue
				}
				return nil, err
			}
			if f.InContainer && p.ContainerID == "" {
				continue
			}
			if f.ContainerID != "" && !strings.HasPrefix(p.ContainerID, f.ContainerID) {
				continue
			}
		}
		if err := fs.fill(p, parts{status: f.Status, cmdline: f.Cmdline}); err != nil {
			if errors.Is(err, ErrNoProcess) {
				continue
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// fill reads the remaining parts of a process loaded from stat.
func (fs *FS) fill(p *Process, what parts) error {
	if !what.status && !what.cmdline {
		return nil
	}
	q, err := fs.loadParts(p.PID, what)
	if err != nil {
		return err
	}
	if what.status {
		p.Status, p.NSpid, p.UID, p.GID = q.Status, q.NSpid, q.UID, q.GID
	}
	if what.cmdline {
		p.Cmdline = q.Cmdline
	}
	return nil
}

// TopRow is one row of c:top(): a process of a container with its PIDs on
// the host and inside.
type TopRow struct {
	PID, PIDInside   int
	PPID, PPIDInside int // PPIDInside is 0 when the parent is outside the container (the runtime's shim)
	UID              int
	User             string // from the host's /etc/passwd; "" when unknown
	Comm             string
	Cmd              string // the command line joined by spaces; [comm] when empty
	State            string
	RSS              uint64
	CPUSeconds       float64
}

// Top returns a row for every process of the container whose id (or unique
// prefix) is id, sorted by PID, read in one pass over /proc.
func (fs *FS) Top(ctx context.Context, id string) ([]TopRow, error) {
	procs, err := fs.Table(ctx, Filter{ContainerID: id, Status: true, Cmdline: true})
	if err != nil {
		return nil, err
	}
	return fs.Rows(procs), nil
}

// TopPIDs returns the rows of the given PIDs (a cgroup's cgroup.procs, say),
// sorted as given; PIDs that exited meanwhile are left out.
func (fs *FS) TopPIDs(ctx context.Context, pids []int) ([]TopRow, error) {
	procs, err := fs.Table(ctx, Filter{PIDs: pids, Status: true, Cmdline: true})
	if err != nil {
		return nil, err
	}
	return fs.Rows(procs), nil
}

// Top reads the rows of container id on the real host (see FS.Top).
func Top(ctx context.Context, id string) ([]TopRow, error) {
	f, err := NewFS("/")
	if err != nil {
		return nil, err
	}
	return f.Top(ctx, id)
}

// Rows turns processes read with Status and Cmdline into top rows. A
// parent's PID inside is known when the parent is among procs and in the
// same PID namespace.
func (fs *FS) Rows(procs []*Process) []TopRow {
	users := fs.Users()
	byPID := make(map[int]*Process, len(procs))
	for _, p := range procs {
		byPID[p.PID] = p
	}
	rows := make([]TopRow, 0, len(procs))
	for _, p := range procs {
		r := TopRow{
			PID: p.PID, PIDInside: p.PIDInside(), PPID: p.PPID, UID: p.UID, User: users[p.UID],
			Comm: p.Comm, Cmd: strings.Join(p.Cmdline, " "), State: p.State, RSS: p.RSS, CPUSeconds: p.CPUSeconds,
		}
		if r.Cmd == "" {
			r.Cmd = "[" + p.Comm + "]"
		}
		if parent, ok := byPID[p.PPID]; ok && len(parent.NSpid) == len(p.NSpid) {
			r.PPIDInside = parent.PIDInside()
		}
		rows = append(rows, r)
	}
	return rows
}
