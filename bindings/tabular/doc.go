// Package tabular is ctrsh's one table engine: emit's rows, ctrsh fleet's
// rows, the shell's tables of records and ctrsh top's screen all order,
// format, measure and align their cells with it.
//
// Columns: identity columns lead (host, rank, time, container, name, id,
// short_id, pid, host_pid, pid_inside), long text trails (cmd, cmdline,
// command, line, message, error), the rest sort by name (OrderKeys).
// Numbers are right-aligned. Widths are measured in terminal cells
// (go-runewidth), so wide characters and escaped bytes line up, and
// colour is added after measuring. Fit to a width, text cells are cut
// with "…"; when even cut text does not fit, the columns of least
// priority (the rightmost first) are left out and the footer names them.
//
// With Options.Human, values show as people read them, chosen by the
// key's name — the last segment of a dotted path ("memory.usage" is
// "usage" below "memory"):
//
//	sizes in B, KiB, MiB, GiB, TiB:
//	    *_bytes, *bytes, *_size, size, rss, vsz, vsize, working_set, cache,
//	    swap, max_usage, peak; usage, limit, max, current below memory
//	    (memory.usage) or prefixed mem_/memory_ (mem_usage, memory_limit)
//	durations (450ms, 12.3s, 5m03s, 2h05m, 3d04h):
//	    seconds: *_seconds, *_secs, seconds, uptime, age, elapsed, duration
//	    *_ns nanoseconds, *_us and *_usec microseconds, *_ms milliseconds
//	times, from Unix seconds (15:04:05 today, else 2006-01-02 15:04):
//	    time, timestamp, created, since, until, start_time, *_time, *_at
//	    — only values from 10^9 on (2001); smaller ones are counts
//	percentages (12.3%): percent, pct, *_percent, *_pct
//	ids: id and *_id values of 32 hex digits or more show their first 12
//	other fractions: two decimals at most
//
// Exact values stay in the data (the Lua values, --json); only the table
// shows them this way. emit's rows are not humanised: a playbook's records
// print as it made them.
package tabular
