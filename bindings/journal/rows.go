package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Sources of event rows.
const (
	SourceEngine = "engine" // the engine's event stream
	SourceCRI    = "cri"    // a Kubernetes node's CRI runtime's events (containerd, CRI-O)
	SourceCgroup = "cgroup" // a container's OOM kill counter rose
	SourceKmsg   = "kmsg"   // the kernel's log (/dev/kmsg)
	SourceCtrsh  = "ctrsh"  // the recorder's own notes: engine down/up, recorder start/stop
)

// Actions the recorder writes besides the engine's own.
const (
	ActionOOMKill    = "oom_kill"
	ActionEngineDown = "engine_down"
	ActionEngineUp   = "engine_up"
	ActionStart      = "recorder_start"
	ActionStop       = "recorder_stop"
	ActionOverflow   = "overflow" // rows were dropped: attributes.dropped
)

// Event is one row of the events table. Optional figures are nil when
// unknown.
type Event struct {
	ID            int64 // the row id (set when read)
	Time          time.Time
	Source        string
	Type          string
	Action        string
	ActorID       string
	ContainerID   string
	ContainerName string
	Image         string
	ExitCode      *int
	OOMKilled     *bool
	RestartCount  *int
	OOMKills      *uint64
	PID           *int
	Comm          string
	Memcg         string
	Attributes    map[string]string
	// Dedup identifies a row that may be seen twice (an engine event
	// replayed after a restart, a kernel log record read again): a second
	// row with the same Dedup is not written. Empty: always written.
	Dedup string
}

// Sample is one row of the samples table.
type Sample struct {
	ID               int64
	Time             time.Time
	ContainerID      string
	ContainerName    string
	MemoryUsage      *uint64
	MemoryWorkingSet *uint64
	MemoryLimit      *uint64
	CPUUsageNs       *uint64
	CPUThrottledNs   *uint64
	CPUNrThrottled   *uint64
	Pids             *uint64
	PidsLimit        *uint64
	OOMKills         *uint64
}

// OOMKill is an OOM kill seen by some source (the kernel's log, an eBPF
// probe): AppendOOM writes it as an oom_kill row.
type OOMKill struct {
	Time          time.Time
	Source        string // SourceKmsg, "trace", ...
	ContainerID   string
	ContainerName string
	PID           int    // the victim's host PID
	Comm          string // the victim's command name
	Memcg         string // the victim's memory cgroup path
	OOMKills      *uint64
	Attributes    map[string]string
	Dedup         string
}

// Event is the row of k.
func (k OOMKill) Event() *Event {
	ev := &Event{
		Time: k.Time, Source: k.Source, Type: "container", Action: ActionOOMKill,
		ActorID: k.ContainerID, ContainerID: k.ContainerID, ContainerName: k.ContainerName,
		Comm: k.Comm, Memcg: k.Memcg, OOMKills: k.OOMKills, Attributes: k.Attributes, Dedup: k.Dedup,
	}
	if k.PID > 0 {
		pid := k.PID
		ev.PID = &pid
	}
	return ev
}

const insertEvent = `INSERT OR IGNORE INTO events (time_ns, source, type, action, actor_id, container_id, container_name,
  image, exit_code, oom_killed, restart_count, oom_kills, pid, comm, memcg, attributes, dedup)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const insertSample = `INSERT INTO samples (time_ns, container_id, container_name, memory_usage, memory_working_set,
  memory_limit, cpu_usage_ns, cpu_throttled_ns, cpu_nr_throttled, pids, pids_limit, oom_kills)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func nullUint(p *uint64) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func nullBool(p *bool) any {
	if p == nil {
		return nil
	}
	if *p {
		return int64(1)
	}
	return int64(0)
}

func (ev *Event) args() []any {
	var attrs any
	if len(ev.Attributes) > 0 {
		b, _ := json.Marshal(ev.Attributes)
		attrs = string(b)
	}
	return []any{ev.Time.UnixNano(), ev.Source, ev.Type, ev.Action, nullString(ev.ActorID), nullString(ev.ContainerID),
		nullString(ev.ContainerName), nullString(ev.Image), nullInt(ev.ExitCode), nullBool(ev.OOMKilled),
		nullInt(ev.RestartCount), nullUint(ev.OOMKills), nullInt(ev.PID), nullString(ev.Comm), nullString(ev.Memcg),
		attrs, nullString(ev.Dedup)}
}

func (s *Sample) args() []any {
	return []any{s.Time.UnixNano(), s.ContainerID, s.ContainerName, nullUint(s.MemoryUsage), nullUint(s.MemoryWorkingSet),
		nullUint(s.MemoryLimit), nullUint(s.CPUUsageNs), nullUint(s.CPUThrottledNs), nullUint(s.CPUNrThrottled),
		nullUint(s.Pids), nullUint(s.PidsLimit), nullUint(s.OOMKills)}
}

// insertRows writes events and samples in tx, with statements prepared on
// it. Rows whose Dedup is already there are skipped.
func insertRows(ctx context.Context, tx *sql.Tx, events []*Event, samples []*Sample) error {
	if len(events) > 0 {
		st, err := tx.PrepareContext(ctx, insertEvent)
		if err != nil {
			return sqliteErr(err)
		}
		defer st.Close()
		for _, ev := range events {
			if _, err := st.ExecContext(ctx, ev.args()...); err != nil {
				return fmt.Errorf("event %s %s: %w", ev.Source, ev.Action, sqliteErr(err))
			}
		}
	}
	if len(samples) > 0 {
		st, err := tx.PrepareContext(ctx, insertSample)
		if err != nil {
			return sqliteErr(err)
		}
		defer st.Close()
		for _, s := range samples {
			if _, err := st.ExecContext(ctx, s.args()...); err != nil {
				return fmt.Errorf("sample %s: %w", s.ContainerName, sqliteErr(err))
			}
		}
	}
	return nil
}

// Append writes rows in one transaction: all of them or none.
func (s *Store) Append(ctx context.Context, events []*Event, samples []*Sample) error {
	if s.readOnly {
		return fmt.Errorf("journal %s: opened read-only", s.Path)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.Path, sqliteErr(err))
	}
	defer tx.Rollback()
	if err := insertRows(ctx, tx, events, samples); err != nil {
		return fmt.Errorf("journal %s: %w", s.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal %s: %w", s.Path, sqliteErr(err))
	}
	return nil
}

// AppendOOM writes one OOM kill row (for sources outside the recorder,
// such as an eBPF probe). It may run beside the recorder: SQLite
// serializes the writers.
func (s *Store) AppendOOM(ctx context.Context, k OOMKill) error {
	if k.Source == "" {
		return fmt.Errorf("journal %s: OOM kill row without a source", s.Path)
	}
	return s.Append(ctx, []*Event{k.Event()}, nil)
}
