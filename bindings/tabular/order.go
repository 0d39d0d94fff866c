package tabular

import "sort"

// leadKeys come first in a row, in this order ("host" is the column ctrsh
// fleet adds); trailKeys, long text, come last in this order; other keys
// sort by name between them.
var (
	leadKeys  = []string{"host", "rank", "time", "container", "name", "id", "short_id", "pid", "host_pid", "pid_inside"}
	trailKeys = []string{"cmd", "cmdline", "command", "line", "message", "error"}
)

// OrderKeys sorts a row's keys in place: lead keys first, trailing text
// last, the rest by name between them.
func OrderKeys(keys []string) []string {
	sort.SliceStable(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// rank places a key: lead keys by position, then 1000 for the rest, then
// trailing keys by position.
func rank(k string) int {
	for i, l := range leadKeys {
		if k == l {
			return i
		}
	}
	for i, t := range trailKeys {
		if k == t {
			return 2000 + i
		}
	}
	return 1000
}

// Priority is the Column.Priority of a key in a table of records of no
// known form: identity columns are kept longest (0), then trailing text
// (1), then the rest (2).
func Priority(k string) int {
	switch r := rank(k); {
	case r < 1000:
		return 0
	case r >= 2000:
		return 1
	}
	return 2
}
