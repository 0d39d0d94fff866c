package journal

// Benchmarks (make bench-journal). CPU is the process's CPU time from
// getrusage, not wall time. They are not part of make test: go test runs
// no benchmark without -bench.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// engineEvent is an event as the engine sends one (with a container's
// labels), as the recorder turns it into a row.
func engineEvent(i int, at time.Time) *Event {
	id := fmt.Sprintf("%016x%048x", i%1000, i%1000)
	name := fmt.Sprintf("web-%d", i%1000)
	actions := []string{"create", "start", "die", "destroy"}
	ev := &Event{Time: at, Source: SourceEngine, Type: "container", Action: actions[i%4], ActorID: id,
		ContainerID: id, ContainerName: name, Image: "registry.example.com/shop/web:1.42",
		Attributes: map[string]string{"name": name, "image": "registry.example.com/shop/web:1.42",
			"com.docker.compose.project": "shop", "com.docker.compose.service": "web", "maintainer": "ops@example.com"},
		Dedup: EngineDedup("container", actions[i%4], id, at.UnixNano())}
	if ev.Action == "die" {
		code, restarts, oom := 137, 2, false
		ev.ExitCode, ev.RestartCount, ev.OOMKilled = &code, &restarts, &oom
		ev.Attributes["exitCode"] = "137"
	}
	return ev
}

// BenchmarkSustainedInsert feeds the writer 1,000 events a second, paced,
// for b.N seconds, and reports the share of a core the process used.
func BenchmarkSustainedInsert(b *testing.B) {
	path := filepath.Join(b.TempDir(), "journal.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := &Config{Path: path, Log: os.Stderr}
	cfg.defaults()
	w, err := newWriter(context.Background(), s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.run(ctx); close(done) }()
	const rate = 1000
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	start := time.Now()
	i := 0
	for sec := 0; sec < b.N; sec++ {
		for k := 0; k < rate; k++ {
			// Paced in steps of 10 events, 10 ms apart.
			if k%10 == 0 {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
			}
			w.add(ctx, engineEvent(i, time.Now()))
			i++
		}
	}
	cancel()
	<-done
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	b.StopTimer()
	var n int
	s.db.QueryRow("SELECT count(*) FROM events").Scan(&n)
	if n != i {
		b.Fatalf("%d rows written of %d", n, i)
	}
	b.ReportMetric(float64(i)/wall.Seconds(), "events/s")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%core")
	b.ReportMetric(float64(cpu.Microseconds())/float64(i), "cpu-µs/event")
}

// BenchmarkInsertFlat is the writer's ceiling: events as fast as it
// takes them.
func BenchmarkInsertFlat(b *testing.B) {
	path := filepath.Join(b.TempDir(), "journal.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := &Config{Path: path, Log: os.Stderr}
	cfg.defaults()
	w, err := newWriter(context.Background(), s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.run(ctx); close(done) }()
	base := time.Now()
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	for i := 0; i < b.N; i++ {
		w.add(ctx, engineEvent(i, base.Add(time.Duration(i))))
	}
	cancel()
	<-done
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
}

// BenchmarkSample100 samples N running containers (CTRSH_BENCH_N, default
// 100) on the test engine, as the recorder does every --sample, and
// reports the CPU one round takes and the share of a core at one round
// every 10 s.
func BenchmarkSample100(b *testing.B) {
	testengine.NeedRoot(b, "reading cgroups")
	n := 100
	if s := os.Getenv("CTRSH_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	host := testengine.Host(b)
	label := fmt.Sprintf("ctrsh.bench.journal=%d", os.Getpid())
	var ids []string
	b.Cleanup(func() {
		for len(ids) > 0 {
			k := min(len(ids), 50)
			testengine.Docker(b, append([]string{"rm", "-f"}, ids[:k]...)...)
			ids = ids[k:]
		}
	})
	for i := 0; i < n; i++ {
		id := testengine.MustDocker(b, "create", "--label", testengine.Label+"=1", "--label",
			fmt.Sprintf("%s=%d", testengine.PIDLabel, os.Getpid()), "--label", label, testengine.BusyboxImage, "sleep", "100000")
		ids = append(ids, id)
	}
	for i := 0; i < len(ids); i += 20 {
		testengine.MustDocker(b, append([]string{"start"}, ids[i:min(i+20, len(ids))]...)...)
	}
	e, err := docker.NewEngine(host)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Negotiate(context.Background()); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "journal.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := &Config{Path: path, Engine: e, Log: os.Stderr}
	cfg.defaults()
	r := &recorder{cfg: cfg, store: s, names: map[string]string{}, cgs: map[string]*watchedCgroup{},
		oomCounts: map[string]uint64{}, checking: map[string]bool{}}
	if r.w, err = newWriter(context.Background(), s, cfg); err != nil {
		b.Fatal(err)
	}
	if r.mounts, err = cgroup.ReadMounts("/"); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.w.run(ctx); close(done) }()
	r.sampleOnce(ctx) // the first look at each cgroup reads the journal once
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r.sampleOnce(ctx)
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	cancel()
	<-done
	var rows int
	s.db.QueryRow("SELECT count(DISTINCT container_id) FROM samples WHERE container_id IN ("+
		strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", anys(ids)...).Scan(&rows)
	if rows != n {
		b.Fatalf("samples of %d of the %d containers", rows, n)
	}
	per := cpu / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "cpu-ms/round")
	b.ReportMetric(100*per.Seconds()/10, "%core@10s")
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// BenchmarkLastDayOf10M asks for one container's last day among 10
// million events (14 days of 1,000 containers). The database is built
// once, by SQL, and kept in $CTRSH_BENCH_DIR (default the temp dir) for
// later runs.
func BenchmarkLastDayOf10M(b *testing.B) {
	const rows, containers, days = 10_000_000, 1000, 14
	dir := os.Getenv("CTRSH_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "ctrsh-journal-bench-10M.db")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := os.Stat(path); err != nil {
		b.Logf("building %s (once)...", path)
		t0 := time.Now()
		s, err := Open(context.Background(), path+".tmp")
		if err != nil {
			b.Fatal(err)
		}
		span := int64(days * 24 * time.Hour)
		start := now.UnixNano() - span
		// Row k: container k%1000, at start + k*span/rows; ids are 64 hex
		// characters, as the engine's.
		q := fmt.Sprintf(`WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < %d)
			INSERT INTO events (time_ns, source, type, action, actor_id, container_id, container_name, image, attributes, dedup)
			SELECT %d + n * %d, 'engine', 'container', CASE n %% 4 WHEN 0 THEN 'create' WHEN 1 THEN 'start' WHEN 2 THEN 'die' ELSE 'destroy' END,
			  printf('%%016x%%048x', n %% %d, n %% %d), printf('%%016x%%048x', n %% %d, n %% %d), 'web-' || (n %% %d),
			  'registry.example.com/shop/web:1.42', '{"name":"web"}', 'e:' || (%d + n * %d) || ':container:' || n
			FROM k`, rows-1, start, span/rows, containers, containers, containers, containers, containers, start, span/rows)
		// Rows first, indexes after (a sort, not 10 million random inserts);
		// the schema ends the same as the recorder's.
		conn, err := s.db.Conn(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, stmt := range []string{"PRAGMA cache_size = -262144", "PRAGMA synchronous = OFF",
			"DROP INDEX events_time", "DROP INDEX events_container", "DROP INDEX events_name", "DROP INDEX events_dedup", q,
			"CREATE INDEX events_time ON events(time_ns)", "CREATE INDEX events_container ON events(container_id, time_ns)",
			"CREATE INDEX events_name ON events(container_name, time_ns)", "CREATE UNIQUE INDEX events_dedup ON events(dedup)",
			"PRAGMA wal_checkpoint(TRUNCATE)"} {
			if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
				b.Fatalf("%.60s: %v", stmt, err)
			}
		}
		conn.Close()
		s.Close()
		if err := os.Rename(path+".tmp", path); err != nil {
			b.Fatal(err)
		}
		os.Remove(path + ".tmp-wal")
		os.Remove(path + ".tmp-shm")
		b.Logf("built in %v", time.Since(t0).Round(time.Second))
	}
	s, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var total int
	s.db.QueryRow("SELECT count(*) FROM events").Scan(&total)
	if total != rows {
		b.Fatalf("%s has %d rows, want %d (remove it to rebuild)", path, total, rows)
	}
	id := fmt.Sprintf("%016x%048x", 421, 421)
	f := Filter{Container: id, Since: now.Add(-24 * time.Hour)}
	b.ResetTimer()
	var got int
	for i := 0; i < b.N; i++ {
		evs, err := s.Events(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		got = len(evs)
	}
	b.StopTimer()
	if want := rows / containers / days; got < want*9/10 || got > want*11/10 {
		b.Fatalf("%d rows for the last day, want about %d", got, want)
	}
	// By name too (every container that had the name).
	f.Container = "web-421"
	if evs, err := s.Events(context.Background(), f); err != nil || len(evs) != got {
		b.Fatalf("by name: %d rows, %v; want %d", len(evs), err, got)
	}
	b.ReportMetric(float64(got), "rows")
}
