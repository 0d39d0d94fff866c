package tabular

import (
	"strings"
)

// Kind is how a column's values show when humanised.
type Kind int

const (
	Plain Kind = iota
	Bytes
	Seconds
	Millis
	Micros
	Nanos
	Time
	Percent
	ID
)

var (
	byteNames    = set("size", "rss", "vsz", "vsize", "working_set", "cache", "swap", "max_usage", "peak")
	memoryNames  = set("usage", "limit", "max", "current", "max_usage", "working_set", "cache", "rss", "swap", "peak")
	secondNames  = set("seconds", "uptime", "age", "elapsed", "duration")
	timeNames    = set("time", "timestamp", "created", "since", "until", "start_time")
	percentNames = set("percent", "pct")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// KindOf decides the kind of a column from its key or dotted path (see the
// package doc for the rules).
func KindOf(path string) Kind {
	key, parent := path, ""
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		key, parent = path[i+1:], path[:i]
		if j := strings.LastIndexByte(parent, '.'); j >= 0 {
			parent = parent[j+1:]
		}
	}
	switch {
	case percentNames[key] || strings.HasSuffix(key, "_percent") || strings.HasSuffix(key, "_pct"):
		return Percent
	case strings.HasSuffix(key, "bytes") || strings.HasSuffix(key, "_size") || byteNames[key]:
		return Bytes
	case memoryNames[key] && parent == "memory", memoryKey(key):
		return Bytes
	case secondNames[key] || strings.HasSuffix(key, "_seconds") || strings.HasSuffix(key, "_secs"):
		return Seconds
	case strings.HasSuffix(key, "_ns"):
		return Nanos
	case strings.HasSuffix(key, "_us") || strings.HasSuffix(key, "_usec"):
		return Micros
	case strings.HasSuffix(key, "_ms"):
		return Millis
	case timeNames[key] || strings.HasSuffix(key, "_time") || strings.HasSuffix(key, "_at"):
		return Time
	case key == "id" || strings.HasSuffix(key, "_id"):
		return ID
	}
	return Plain
}

// memoryKey reports mem_usage, memory_limit and the like.
func memoryKey(key string) bool {
	for _, p := range []string{"mem_", "memory_"} {
		if rest, ok := strings.CutPrefix(key, p); ok && memoryNames[rest] {
			return true
		}
	}
	return false
}
