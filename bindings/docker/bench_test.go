package docker_test

import (
	"context"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// BenchmarkStatsOne reads one running container's stats from its cgroup,
// as docker.stats does for each (BriefStats) and c:stats (FullStats).
func BenchmarkStatsOne(b *testing.B) {
	id := testengine.Run(b, testengine.BusyboxImage, "sleep", "1000")
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		fields docker.StatFields
	}{{"brief", docker.BriefStats}, {"full", docker.FullStats}} {
		b.Run(bc.name, func(b *testing.B) {
			targets := []docker.StatTarget{{ID: id, Name: "bench"}}
			b.ReportAllocs()
			for b.Loop() {
				_, errs := docker.ReadStatsOf(ctx, "/", targets, 0, bc.fields)
				if errs[0] != nil {
					b.Fatal(errs[0])
				}
			}
		})
	}
}

// BenchmarkTop reads the process table of a container of 200 processes
// (c:top's reading, without the Lua table).
func BenchmarkTop(b *testing.B) {
	id := testengine.Run(b, testengine.BusyboxImage, "sh", "-c", "for i in $(seq 199); do sleep 1000 & done; wait")
	cg, err := cgroup.ForContainer("/", id)
	if err != nil {
		b.Fatal(err)
	}
	var pids []int
	for len(pids) < 200 {
		if pids, err = cg.Procs(); err != nil {
			b.Fatal(err)
		}
	}
	fs, err := proc.NewFS("/")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rows, err := fs.TopOf(ctx, pids)
		if err != nil || len(rows) < 200 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200, "ns/process")
}
