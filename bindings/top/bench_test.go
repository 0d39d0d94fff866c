package top

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// BenchmarkRefresh measures one refresh of the view as ctrsh top does it
// every second — list, read every container's cgroup and network
// counters, lay out the screen — with N busybox containers running
// (CTRSH_BENCH_TOP_N, default 100; `make bench-top`). It reports the CPU
// time ctrsh spent (user + system, from getrusage) per refresh, which is
// what the issue bounds (under 20 ms at N=100); the engine's own time to
// answer the list is apart.
func BenchmarkRefresh(b *testing.B) {
	n := 100
	if s := os.Getenv("CTRSH_BENCH_TOP_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	host := testengine.Host(b)
	for i := 0; i < n; i++ {
		testengine.Run(b, "--label", "ctrsh.bench.top=1", testengine.BusyboxImage, "sleep", "3600")
	}
	e, err := docker.NewEngine(host)
	if err != nil {
		b.Fatal(err)
	}
	col, err := NewCollector(NewDockerSource(e, "/"), "/")
	if err != nil {
		b.Fatal(err)
	}
	defer col.Close()
	ctx := context.Background()
	m := NewModel(Deps{}, time.Second, 200, 60, true)
	refresh := func() int {
		snap := col.Collect(ctx)
		if snap.Err != nil {
			b.Fatal(snap.Err)
		}
		m, _ = m.Update(SnapshotMsg{snap})
		_ = m.View()
		return len(snap.Rows)
	}
	rows := refresh() // the first sees every container: one inspect each
	if rows < n {
		b.Fatalf("%d containers listed, want %d or more", rows, n)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		rows = refresh()
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/refresh")
	b.ReportMetric(float64(rows), "containers")
	b.Logf("%s at N=%d (%d listed): %.2f ms of CPU a refresh", b.Name(), n, rows, float64(cpu.Microseconds())/1000/float64(b.N))
}

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(fmt.Sprint("getrusage: ", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
