package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// Filter selects rows: one filter type for events and samples. Zero
// fields select everything.
type Filter struct {
	Since, Until time.Time // Until is inclusive
	// Container is a container's name, its id, or a prefix of its id (every
	// container that ever had the name or such an id: names are reused), or
	// a pod's container as [namespace/]pod/name.
	Container string
	Actions   []string // events only
	Sources   []string // events only
	Types     []string // events only
	// Limit keeps the newest Limit rows (still returned oldest first).
	Limit int
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return s != ""
}

// podRef splits a pod container's reference, [namespace/]pod/name; ok is
// false for anything else (Docker names hold no "/").
func podRef(ref string) (pod docker.Pod, name string, ok bool) {
	parts := strings.Split(ref, "/")
	for _, p := range parts {
		if p == "" {
			return pod, "", false
		}
	}
	switch len(parts) {
	case 2:
		return docker.Pod{Name: parts[0]}, parts[1], true
	case 3:
		return docker.Pod{Namespace: parts[0], Name: parts[1]}, parts[2], true
	}
	return pod, "", false
}

// where builds the WHERE clause of f (events: with the event-only fields).
func (f Filter) where(events bool) (string, []any) {
	var conds []string
	var args []any
	if !f.Since.IsZero() {
		conds = append(conds, "time_ns >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		conds = append(conds, "time_ns <= ?")
		args = append(args, f.Until.UnixNano())
	}
	if pod, name, ok := podRef(f.Container); ok {
		// A pod's container ([namespace/]pod/name, as the containers
		// module names it): every container that had the name in the pod,
		// from the kubelet's labels the runtime's events carry.
		sub := `SELECT container_id FROM events WHERE container_name = ? AND container_id IS NOT NULL
			AND json_extract(attributes, '$."io.kubernetes.pod.name"') = ?`
		args = append(args, name, pod.Name)
		if pod.Namespace != "" {
			sub += ` AND json_extract(attributes, '$."io.kubernetes.pod.namespace"') = ?`
			args = append(args, pod.Namespace)
		}
		conds = append(conds, "container_id IN ("+sub+")")
	} else if f.Container != "" {
		// A name selects every container that ever had it, also in rows
		// written before the name was known (a kernel log line read at
		// start for a container removed since).
		byName := "container_name = ? OR container_id IN (SELECT container_id FROM events WHERE container_name = ? AND container_id IS NOT NULL)"
		if isHex(f.Container) {
			// Ids are lower-case hex: every id with the prefix sorts below
			// prefix+"~".
			conds = append(conds, "("+byName+" OR (container_id >= ? AND container_id < ?))")
			args = append(args, f.Container, f.Container, f.Container, f.Container+"~")
		} else {
			conds = append(conds, "("+byName+")")
			args = append(args, f.Container, f.Container)
		}
	}
	in := func(col string, vs []string) {
		if len(vs) == 0 {
			return
		}
		conds = append(conds, col+" IN (?"+strings.Repeat(", ?", len(vs)-1)+")")
		for _, v := range vs {
			args = append(args, v)
		}
	}
	if events {
		in("action", f.Actions)
		in("source", f.Sources)
		in("type", f.Types)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ordered wraps a select in newest-Limit, oldest-first order.
func (f Filter) ordered(sel string) string {
	if f.Limit > 0 {
		return fmt.Sprintf("SELECT * FROM (%s ORDER BY time_ns DESC, id DESC LIMIT %d) ORDER BY time_ns, id", sel, f.Limit)
	}
	return sel + " ORDER BY time_ns, id"
}

const eventColumns = `id, time_ns, source, type, action, actor_id, container_id, container_name, image, exit_code,
  oom_killed, restart_count, oom_kills, pid, comm, memcg, attributes, dedup`

// Events returns the events f selects, oldest first.
func (s *Store) Events(ctx context.Context, f Filter) ([]*Event, error) {
	where, args := f.where(true)
	rows, err := s.db.QueryContext(ctx, f.ordered("SELECT "+eventColumns+" FROM events"+where), args...)
	if err != nil {
		return nil, fmt.Errorf("journal %s: events: %w", s.Path, err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("journal %s: events: %w", s.Path, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal %s: events: %w", s.Path, err)
	}
	return out, nil
}

func scanEvent(rows *sql.Rows) (*Event, error) {
	var (
		ev                                                  Event
		ns                                                  int64
		actor, cid, cname, image, comm, memcg, attrs, dedup sql.NullString
		exit, oomKilled, restarts, oomKills, pid            sql.NullInt64
	)
	if err := rows.Scan(&ev.ID, &ns, &ev.Source, &ev.Type, &ev.Action, &actor, &cid, &cname, &image, &exit,
		&oomKilled, &restarts, &oomKills, &pid, &comm, &memcg, &attrs, &dedup); err != nil {
		return nil, err
	}
	ev.Time = time.Unix(0, ns)
	ev.ActorID, ev.ContainerID, ev.ContainerName, ev.Image = actor.String, cid.String, cname.String, image.String
	ev.Comm, ev.Memcg, ev.Dedup = comm.String, memcg.String, dedup.String
	ev.ExitCode, ev.RestartCount, ev.PID = intPtr(exit), intPtr(restarts), intPtr(pid)
	ev.OOMKills = uintPtr(oomKills)
	if oomKilled.Valid {
		b := oomKilled.Int64 != 0
		ev.OOMKilled = &b
	}
	if attrs.Valid && attrs.String != "" {
		if err := json.Unmarshal([]byte(attrs.String), &ev.Attributes); err != nil {
			return nil, fmt.Errorf("row %d: attributes: %w", ev.ID, err)
		}
	}
	return &ev, nil
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func uintPtr(n sql.NullInt64) *uint64 {
	if !n.Valid || n.Int64 < 0 {
		return nil
	}
	v := uint64(n.Int64)
	return &v
}

const sampleColumns = `id, time_ns, container_id, container_name, memory_usage, memory_working_set, memory_limit,
  cpu_usage_ns, cpu_throttled_ns, cpu_nr_throttled, pids, pids_limit, oom_kills`

// Samples returns the samples f selects (Since, Until, Container, Limit),
// oldest first.
func (s *Store) Samples(ctx context.Context, f Filter) ([]*Sample, error) {
	where, args := f.where(false)
	rows, err := s.db.QueryContext(ctx, f.ordered("SELECT "+sampleColumns+" FROM samples"+where), args...)
	if err != nil {
		return nil, fmt.Errorf("journal %s: samples: %w", s.Path, err)
	}
	defer rows.Close()
	var out []*Sample
	for rows.Next() {
		var (
			sm                                      Sample
			ns                                      int64
			usage, ws, limit, cpu, thr, nthr, p, pl sql.NullInt64
			ooms                                    sql.NullInt64
		)
		if err := rows.Scan(&sm.ID, &ns, &sm.ContainerID, &sm.ContainerName, &usage, &ws, &limit, &cpu, &thr, &nthr, &p, &pl, &ooms); err != nil {
			return nil, fmt.Errorf("journal %s: samples: %w", s.Path, err)
		}
		sm.Time = time.Unix(0, ns)
		sm.MemoryUsage, sm.MemoryWorkingSet, sm.MemoryLimit = uintPtr(usage), uintPtr(ws), uintPtr(limit)
		sm.CPUUsageNs, sm.CPUThrottledNs, sm.CPUNrThrottled = uintPtr(cpu), uintPtr(thr), uintPtr(nthr)
		sm.Pids, sm.PidsLimit, sm.OOMKills = uintPtr(p), uintPtr(pl), uintPtr(ooms)
		out = append(out, &sm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal %s: samples: %w", s.Path, err)
	}
	return out, nil
}

// lastEngineEvent is the time of the newest event from the engine's
// stream (not one reconciled from container lists), zero when none.
func (s *Store) lastEngineEvent(ctx context.Context) (time.Time, error) {
	return s.lastSourceEvent(ctx, SourceEngine)
}

// lastSourceEvent is the time of the newest event of source that came from
// its stream (not one reconciled).
func (s *Store) lastSourceEvent(ctx context.Context, source string) (time.Time, error) {
	var ns sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT max(time_ns) FROM events WHERE source = ? AND dedup IS NOT NULL`, source).Scan(&ns)
	if err != nil || !ns.Valid {
		return time.Time{}, err
	}
	return time.Unix(0, ns.Int64), nil
}
