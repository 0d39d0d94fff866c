package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5 * ms}, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 5 * ms},
		{[]time.Duration{7, 3, 100, 1, 2, 50, 4}, 4},
		{[]time.Duration{4, 1, 3, 2}, 3}, // even: the upper middle
	} {
		in := append([]time.Duration(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) {
			t.Errorf("median reordered its argument: %v", tc.in)
		}
	}
}

func TestNewRowTargets(t *testing.T) {
	stats := op{name: "stats", n: 100, perContainer: true, target: 100, ctrshDesc: "a", dockerDesc: "b", rounds: 7}
	for _, tc := range []struct {
		name          string
		ctrsh, docker time.Duration
		rss           int64
		met           bool
		miss          string
		ratio         float64
	}{
		{"met exactly", 25 * time.Millisecond, 2500 * time.Millisecond, 20 << 20, true, "", 100},
		{"ratio short", 100 * time.Millisecond, 2500 * time.Millisecond, 20 << 20, false, "ratio", 25},
		{"rss over", 10 * time.Millisecond, 2500 * time.Millisecond, 31 << 20, false, "rss", 250},
		{"rss at the limit", 10 * time.Millisecond, 2500 * time.Millisecond, 30 << 20, true, "", 250},
		{"both", 100 * time.Millisecond, 2500 * time.Millisecond, 40 << 20, false, "ratio+rss", 25},
		{"no ctrsh time", 0, time.Second, 0, false, "ratio", 0},
	} {
		r := newRow(stats, 103, tc.ctrsh, tc.docker, tc.rss)
		if r.Met != tc.met || r.Miss != tc.miss || r.Ratio != tc.ratio {
			t.Errorf("%s: met %v miss %q ratio %v, want %v %q %v", tc.name, r.Met, r.Miss, r.Ratio, tc.met, tc.miss, tc.ratio)
		}
	}
	r := newRow(stats, 100, 50*time.Millisecond, time.Second, 0)
	if r.PerContainerMs != 0.5 || r.Running != 100 || r.N != 100 || r.Rounds != 7 {
		t.Errorf("row %+v: want 0.5 ms per container, running 100, N 100, 7 rounds", r)
	}
	if r := newRow(op{name: "start", n: 100, target: 1}, 103, time.Millisecond, time.Second, 0); r.PerContainerMs != 0 {
		t.Errorf("a row without N has a cost per container: %v", r.PerContainerMs)
	}
}

func sampleReport() *Report {
	stats := op{name: "stats", perContainer: true, target: 100, ctrshDesc: "ctrsh -e 'docker.stats{}'", dockerDesc: "docker stats --no-stream"}
	grep := op{name: "grep", n: 100, target: 10, ctrshDesc: "ctrsh -e counting c:logs{grep=...}", dockerDesc: "docker logs | grep -c"}
	rows := []Row{}
	for _, n := range []int{1, 100, 300} {
		stats.n = n
		rows = append(rows, newRow(stats, max(n, 2), time.Duration(n)*200*time.Microsecond+5*time.Millisecond, 2500*time.Millisecond, 18<<20))
	}
	g := newRow(grep, 104, 2350*time.Millisecond, 6450*time.Millisecond, 33<<20)
	g.Check = `ctrsh printed "1000", docker "1001"`
	rows = append(rows, g)
	fillMarginal(rows)
	return &Report{Date: "2026-12-02 01:00 UTC", N: 100, Curve: []int{1, 100, 300}, Rounds: 7, Elapsed: "9m0s",
		Machine: Machine{Host: "vm", Cores: 2, Kernel: "Linux 6.1", Engine: "20.10", LoadStart: "0.5 0.4 0.3", LoadEnd: "1.0 0.8 0.5"},
		Rows:    rows, Events: &Latency{CtrshMs: 0.5, DockerMs: 1.1, Count: 14}}
}

func TestWriteReport(t *testing.T) {
	var b bytes.Buffer
	writeReport(&b, sampleReport())
	want := "ctrsh-bench 2026-12-02 01:00 UTC: vm, 2 cores, Linux 6.1, engine 20.10, N=100, 7 pairs after a warm-up, load 0.5 0.4 0.3 → 1.0 0.8 0.5, took 9m0s\n" +
		"\n" +
		"| operation | N | ctrsh | median | docker CLI | median | ratio | target | met | ctrsh peak RSS |\n" +
		"| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | --- | ---: |\n" +
		"| stats | 100 | `ctrsh -e 'docker.stats{}'` | 25 ms | `docker stats --no-stream` | 2.50 s | 100× | ≥ 100× | yes | 18.0 MiB |\n" +
		"| grep | 100 | `ctrsh -e counting c:logs{grep=...}` | 2.35 s | `docker logs \\| grep -c` | 6.45 s | 2.7× | ≥ 10× | **no** (ratio+rss) | 33.0 MiB |\n" +
		"\n" +
		"Cost as N grows (per container: ctrsh's median over the running containers it covered):\n" +
		"\n" +
		"| operation | N | running | ctrsh | per container | per added container | docker CLI | ratio | ctrsh peak RSS |\n" +
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n" +
		"| stats | 1 | 2 | 5.2 ms | 2.6 ms | — | 2.50 s | 481× | 18.0 MiB |\n" +
		"| stats | 100 | 100 | 25 ms | 250 µs | 202 µs | 2.50 s | 100× | 18.0 MiB |\n" +
		"| stats | 300 | 300 | 65 ms | 216 µs | 200 µs | 2.50 s | 38× | 18.0 MiB |\n" +
		"\n" +
		"Event delay, engine timestamp of a pause/unpause → delivery (14 events, medians): events.watch callback 500 µs, `docker events` on a pipe 1.1 ms\n" +
		"\n" +
		"NOTE grep (N=100): the answers differ: ctrsh printed \"1000\", docker \"1001\"\n" +
		"\n" +
		"NOTE containers not the benchmark's were running too (they count in \"every running container\"): at N=1 up to 2, at N=100 up to 104\n"
	if got := b.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	rep := sampleReport()
	if err := writeJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, rep) {
		t.Errorf("bench.json does not read back:\n%s", b.String())
	}
	for _, key := range []string{`"operation": "grep"`, `"n": 100`, `"ctrsh_ms": 2350`, `"docker_ms": 6450`,
		`"ratio": 100`, `"target": 10`, `"met": false`, `"miss": "ratio+rss"`, `"ctrsh_peak_rss_mib": 33`,
		`"ctrsh_ms_per_container": 0.25`, `"per_container": true`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("bench.json lacks %s:\n%s", key, b.String())
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := parseList("300, 1,20,100,20")
	if err != nil || !reflect.DeepEqual(got, []int{1, 20, 100, 300}) {
		t.Errorf("parseList = %v, %v", got, err)
	}
	for _, bad := range []string{"1,x", "0", "-5"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) took it", bad)
		}
	}
	if got := levels([]int{1, 20, 300}, 100); !reflect.DeepEqual(got, []int{1, 20, 100, 300}) {
		t.Errorf("levels = %v", got)
	}
}

func TestQuickDefaults(t *testing.T) {
	c, err := parseFlags([]string{"-quick", "-rounds", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.n != 5 || !reflect.DeepEqual(c.curve, []int{1, 5}) || c.rounds != 2 || c.logLines != 20000 || c.topProcs != 300 {
		t.Errorf("quick config %+v", c)
	}
	c, err = parseFlags(nil)
	if err != nil || c.n != 100 || !reflect.DeepEqual(c.curve, []int{1, 20, 100, 300}) || c.rounds != 7 ||
		c.logLines != 1000000 || c.topProcs != 3000 || c.jsonPath != "bench.json" {
		t.Errorf("default config %+v, %v", c, err)
	}
}

func TestTallyAndChecks(t *testing.T) {
	var c, d tally
	c.Write([]byte("1000\n"))
	for i := 0; i < 300; i++ {
		d.Write([]byte("some line\n"))
	}
	d.Write([]byte("1000\n"))
	if d.lines != 301 || d.last() != "1000" {
		t.Errorf("tally: %d lines, last %q", d.lines, d.last())
	}
	if msg := sameValue(&c, &d); msg != "" {
		t.Errorf("sameValue: %s", msg)
	}
	if msg := sameLines(1)(&c, &d); msg != `ctrsh counted 1000, docker wrote 300 lines` {
		t.Errorf("sameLines: %q", msg)
	}
	var e tally
	e.Write([]byte("300\n"))
	if msg := sameLines(1)(&e, &d); msg != "" {
		t.Errorf("sameLines: %q", msg)
	}
}

func TestPerContainerCountsOthers(t *testing.T) {
	// 100 of the benchmark's and 25 of others': the operation covered 125.
	r := newRow(op{name: "stats", n: 100, perContainer: true, target: 100}, 125, 250*time.Millisecond, time.Second, 0)
	if r.PerContainerMs != 2 {
		t.Errorf("per container %v ms, want 2 (250 ms over 125 containers)", r.PerContainerMs)
	}
}

func TestFmtMs(t *testing.T) {
	for v, want := range map[float64]string{2500: "2.50 s", 25: "25 ms", 5.25: "5.2 ms", 0.25: "250 µs", -32.7: "−33 ms", -0.5: "−500 µs"} {
		if got := fmtMs(v); got != want {
			t.Errorf("fmtMs(%v) = %q, want %q", v, got, want)
		}
	}
}
