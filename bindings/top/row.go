package top

import (
	"sort"
	"strings"

	"github.com/ctrsh/ctrsh/bindings/tabular"
)

// Record is r as the one-sample output gives it (JSON lines with --json,
// top() off a terminal): snake_case keys as c:stats, unknown figures left
// out, exact values.
func Record(r Row) map[string]any {
	m := map[string]any{"id": r.ID, "name": r.Name, "image": r.Image, "runtime": r.Runtime, "pid": r.PID}
	if r.Source != "" {
		m["source"] = r.Source
	}
	if r.Pod != "" {
		m["pod"] = r.Pod
	}
	set := func(k string, v int64) {
		if v >= 0 {
			m[k] = v
		}
	}
	setf := func(k string, v float64) {
		if v >= 0 {
			m[k] = v
		}
	}
	setf("cpu_percent", r.CPUPercent)
	set("mem_usage", r.MemUsage)
	set("mem_limit", r.MemLimit)
	setf("mem_percent", r.MemPercent)
	set("pids", r.Pids)
	set("oom_kills", r.OOMKills)
	set("restarts", r.Restarts)
	set("net_rx_bytes", r.NetRx)
	set("net_tx_bytes", r.NetTx)
	set("block_read_bytes", r.BlockRead)
	set("block_write_bytes", r.BlockWrite)
	return m
}

// columns of the view; Priority says what goes first on a narrow
// terminal (ids, then block and network I/O), Keep holds every column in
// place while figures come and go.
var columns = []tabular.Column{
	{Key: "name", Header: "NAME", Kinded: true, Min: 12, Keep: true},
	{Key: "pod", Header: "POD", Kinded: true, Min: 12, Priority: 2},
	{Key: "id", Header: "ID", Kind: tabular.ID, Kinded: true, Priority: 5, Keep: true},
	{Key: "cpu", Header: "CPU%", Kind: tabular.Percent, Kinded: true, Keep: true},
	{Key: "mem", Header: "MEM", Kind: tabular.Bytes, Kinded: true, Keep: true},
	{Key: "limit", Header: "LIMIT", Kind: tabular.Bytes, Kinded: true, Priority: 2, Keep: true},
	{Key: "mem_percent", Header: "MEM%", Kind: tabular.Percent, Kinded: true, Priority: 1, Keep: true},
	{Key: "pids", Header: "PIDS", Kinded: true, Priority: 1, Keep: true},
	{Key: "oom", Header: "OOM", Kinded: true, Priority: 1, Keep: true},
	{Key: "restarts", Header: "RESTARTS", Kinded: true, Priority: 2, Keep: true},
	{Key: "net_rx", Header: "NET_RX", Kind: tabular.Bytes, Kinded: true, Priority: 3, Keep: true},
	{Key: "net_tx", Header: "NET_TX", Kind: tabular.Bytes, Kinded: true, Priority: 3, Keep: true},
	{Key: "block_r", Header: "BLOCK_R", Kind: tabular.Bytes, Kinded: true, Priority: 4, Keep: true},
	{Key: "block_w", Header: "BLOCK_W", Kind: tabular.Bytes, Kinded: true, Priority: 4, Keep: true},
	{Key: "runtime", Header: "RUNTIME", Kinded: true, Priority: 4, Varied: true},
}

// Table lays rows out as the view shows them (POD when a container has
// one, RUNTIME when there are two).
func Table(rows []Row) *tabular.Table {
	t := &tabular.Table{Columns: columns, Rows: make([][]any, len(rows))}
	for i, r := range rows {
		t.Rows[i] = []any{r.Name, str(r.Pod), r.ID, pct(r.CPUPercent), n(r.MemUsage), n(r.MemLimit), pct(r.MemPercent),
			n(r.Pids), n(r.OOMKills), n(r.Restarts), n(r.NetRx), n(r.NetTx), n(r.BlockRead), n(r.BlockWrite), str(r.Runtime)}
	}
	return t
}

// str is a cell of text: empty when "".
func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// n is a cell of a count: empty when unknown.
func n(v int64) any {
	if v < 0 {
		return nil
	}
	return v
}

func pct(v float64) any {
	if v < 0 {
		return nil
	}
	return v
}

// SortKey orders the rows of the view.
type SortKey int

// The orders: c, m, p and n on the keyboard.
const (
	ByCPU SortKey = iota
	ByMemory
	ByPids
	ByName
)

var sortNames = map[SortKey]string{ByCPU: "CPU", ByMemory: "memory", ByPids: "pids", ByName: "name"}

func (k SortKey) String() string { return sortNames[k] }

// Sort orders rows in place by k: figures largest first (unknown last),
// names A to Z; reverse turns it round. Ties go by name.
func Sort(rows []Row, k SortKey, reverse bool) {
	key := func(r Row) float64 {
		switch k {
		case ByCPU:
			return r.CPUPercent
		case ByMemory:
			return float64(r.MemUsage)
		case ByPids:
			return float64(r.Pids)
		}
		return 0
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if k != ByName {
			if ka, kb := key(a), key(b); ka != kb {
				return (ka > kb) != reverse
			}
		}
		if a.Name != b.Name {
			return (a.Name < b.Name) != (reverse && k == ByName)
		}
		return a.ID < b.ID
	})
}

// Match reports whether r passes the filter: a part of its name, pod or
// image, or a prefix of its id, case ignored.
func Match(r Row, filter string) bool {
	if filter == "" {
		return true
	}
	f := strings.ToLower(filter)
	return strings.Contains(strings.ToLower(r.Name), f) || strings.Contains(strings.ToLower(r.Pod), f) ||
		strings.Contains(strings.ToLower(r.Image), f) || strings.HasPrefix(r.ID, f)
}
