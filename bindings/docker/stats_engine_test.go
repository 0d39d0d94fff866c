package docker_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// parseSize reads a size as docker stats prints it: "1.5MiB", "64MiB", "0B".
func parseSize(t *testing.T, s string) float64 {
	t.Helper()
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil {
				t.Fatalf("size %q: %v", s, err)
			}
			return v * u.mult
		}
	}
	t.Fatalf("size %q: no unit", s)
	return 0
}

// near says whether a and b agree within docker's rounding (4 significant
// digits) and a sample's drift (64 KiB).
func near(a, b float64) bool {
	return math.Abs(a-b) <= math.Max(b*0.002, 64<<10)
}

// nearUsage compares two readings of a cgroup's memory usage taken a
// moment apart. On cgroup v1, memory.usage_in_bytes (what the engine
// reports) is charged in per-CPU batches of MEMCG_CHARGE_BATCH (64) pages,
// so two readings of an idle container differ by up to 64 pages a CPU
// (seen: 324 KiB against docker stats' 508 KiB on 2 CPUs).
func nearUsage(a, b float64) bool {
	return math.Abs(a-b) <= math.Max(b*0.002, float64(64*os.Getpagesize()*runtime.NumCPU()))
}

// docker.stats{} reports, for each container, the memory usage, limit and
// PID count that docker stats --no-stream shows.
func TestStatsEqualDockerStats(t *testing.T) {
	host := testengine.Host(t)
	label := fmt.Sprintf("ctrsh.case=stats-%d", os.Getpid())
	ids := map[string]bool{}
	for _, args := range [][]string{
		{"--memory", "64m", testengine.BusyboxImage, "sleep", "1000"},
		{"--memory", "48m", testengine.BusyboxImage, "sh", "-c", "sleep 1000 & sleep 1000 & head -c 8000000 /dev/zero > /dev/shm/x; sleep 1000"},
		{testengine.BusyboxImage, "sleep", "1000"},
	} {
		ids[testengine.Run(t, append([]string{"--label", label}, args...)...)] = true
	}
	out := testengine.MustDocker(t, "stats", "--no-stream", "--no-trunc", "--format", "{{json .}}",
		"--all")
	type row struct{ ID, MemUsage, PIDs string }
	want := map[string]row{}
	for _, line := range strings.Split(out, "\n") {
		var r row
		if json.Unmarshal([]byte(line), &r) == nil && ids[r.ID] {
			want[r.ID] = r
		}
	}
	if len(want) != len(ids) {
		t.Fatalf("docker stats showed %d of our %d containers:\n%s", len(want), len(ids), out)
	}
	L := luatest.NewState(t, luatest.WithEnv(func(env *luax.Env) { env.DockerHost = host }))
	L.SetGlobal("LABEL", lua.LString(label))
	if err := L.DoString(`rows = assert(docker.stats{filters = {label = LABEL}})`); err != nil {
		t.Fatal(err)
	}
	rows := L.GetGlobal("rows").(*lua.LTable)
	if rows.Len() != len(ids) {
		t.Fatalf("docker.stats: %d rows, want %d", rows.Len(), len(ids))
	}
	memTotal := hostMemTotal(t)
	for i := 1; i <= rows.Len(); i++ {
		r := rows.RawGetInt(i).(*lua.LTable)
		id := r.RawGetString("id").String()
		w := want[id]
		mem := r.RawGetString("memory").(*lua.LTable)
		usage := float64(mem.RawGetString("working_set").(lua.LNumber))
		used, limit, _ := strings.Cut(w.MemUsage, "/")
		if !nearUsage(usage, parseSize(t, used)) {
			t.Errorf("%.12s: memory %v, docker stats %q", id, usage, w.MemUsage)
		}
		wantLimit := parseSize(t, limit)
		if l, ok := mem.RawGetString("limit").(lua.LNumber); ok {
			if !near(float64(l), wantLimit) {
				t.Errorf("%.12s: limit %v, docker stats %q", id, l, w.MemUsage)
			}
		} else if mem.RawGetString("unlimited") != lua.LTrue || !near(memTotal, wantLimit) {
			// Unlimited: docker stats shows the host's memory.
			t.Errorf("%.12s: no limit (unlimited=%v), docker stats %q (host memory %v)", id, mem.RawGetString("unlimited"), w.MemUsage, memTotal)
		}
		pids := r.RawGetString("pids").(*lua.LTable).RawGetString("current").String()
		if pids != w.PIDs {
			t.Errorf("%.12s: pids %s, docker stats %s", id, pids, w.PIDs)
		}
	}
}

func hostMemTotal(t *testing.T) float64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}
