// Command ctrsh-bench measures ctrsh against the docker CLI on the private
// test engine: each pair runs alternately (A B A B ...) after a warm-up, and
// the medians and their ratio are printed, with the machine noted. Ratios
// from one run are what count: the machine is shared and noisy.
//
// It creates its own containers (label ctrsh.bench=1) and removes them; it
// never touches containers it did not create. `make bench [N=100]` runs it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

type config struct {
	host     string
	ctrsh    string
	docker   string
	n        int
	rounds   int
	logLines int
	only     string
}

func main() {
	var c config
	flag.StringVar(&c.host, "host", envOr("CTRSH_TEST_DOCKER_HOST", "unix:///run/ctrsh-test/docker.sock"), "engine endpoint")
	flag.StringVar(&c.ctrsh, "ctrsh", "bin/ctrsh", "ctrsh binary")
	flag.StringVar(&c.docker, "docker", "docker", "docker CLI")
	flag.IntVar(&c.n, "n", 20, "number of running containers")
	flag.IntVar(&c.rounds, "rounds", 7, "measured rounds per pair (after one warm-up)")
	flag.IntVar(&c.logLines, "log-lines", 1000000, "lines in the big log")
	flag.StringVar(&c.only, "only", "", "run only pairs whose name contains this")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintf(os.Stderr, "ctrsh-bench: %v\n", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// bench holds the Lua state the in-process operations run in, as a user's
// shell session would.
type bench struct {
	config
	L       *lua.LState
	peakRSS int64
}

func (b *bench) docker(args ...string) (string, error) {
	cmd := exec.Command(b.config.docker, append([]string{"-H", b.host}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// lua runs a chunk in the shared state.
func (b *bench) lua(code string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.L.SetContext(ctx)
	defer b.L.RemoveContext()
	return luax.DoString(b.L, code)
}

func run(c config) error {
	b := &bench{config: c}
	b.L = bindings.New(&luax.Env{Stdout: io.Discard, Stderr: os.Stderr, Stdin: strings.NewReader(""), DockerHost: c.host})
	defer b.L.Close()
	// Hold the test engine's shared lock, as test processes do, so that no
	// test restarts the engine in the middle of a measurement.
	if f, err := os.OpenFile("/run/ctrsh-test/use.lock", os.O_RDONLY|os.O_CREATE, 0o644); err == nil {
		defer f.Close()
		syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	}
	if _, err := b.docker("version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("no engine at %s (make engine starts it): %v", c.host, err)
	}
	defer b.cleanup()
	b.cleanup()
	fmt.Fprintf(os.Stderr, "setting up %d containers and a %d-line log...\n", c.n, c.logLines)
	if err := b.setup(); err != nil {
		return err
	}
	var results []result
	for _, p := range b.pairs() {
		if c.only != "" && !strings.Contains(p.name, c.only) {
			continue
		}
		fmt.Fprintf(os.Stderr, "measuring: %s\n", p.name)
		r, err := b.measure(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		results = append(results, r)
	}
	var lat *latency
	if c.only == "" || strings.Contains("events", c.only) {
		fmt.Fprintf(os.Stderr, "measuring: docker pause -> events.watch callback\n")
		l, err := b.eventLatency(2 * b.rounds)
		if err != nil {
			return fmt.Errorf("event latency: %w", err)
		}
		lat = l
	}
	var scale []string
	if c.only == "" || strings.Contains("scaling", c.only) {
		fmt.Fprintf(os.Stderr, "measuring: scaling\n")
		rows, err := b.scaling()
		if err != nil {
			return fmt.Errorf("scaling: %w", err)
		}
		scale = rows
	}
	b.report(results, lat)
	if len(scale) > 0 {
		fmt.Print("\nctrsh's cost as N grows (medians):\n\n")
		fmt.Println("| N | `docker.stats{}` | top of every container (pidmap) |")
		fmt.Println("| ---: | ---: | ---: |")
		for _, r := range scale {
			fmt.Println(r)
		}
	}
	return nil
}

// latency is the delay from an event's engine timestamp to its delivery.
type latency struct {
	ctrsh, docker time.Duration
	count         int
}

// eventLatency pauses and unpauses a container k times while an
// events.watch runs in the Lua state and `docker events` runs on a pipe;
// each side's delay is measured from the engine's own event timestamp.
func (b *bench) eventLatency(k int) (*latency, error) {
	name := "ctrsh-bench-0"
	cmd := exec.Command(b.config.docker, "-H", b.host, "events", "--filter", "container="+name,
		"--filter", "event=pause", "--filter", "event=unpause", "--format", "{{.TimeNano}}")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Process.Kill()
	cliLat := make(chan time.Duration, 2*k)
	go func() {
		buf := make([]byte, 0, 64)
		one := make([]byte, 1)
		for {
			if _, err := out.Read(one); err != nil {
				close(cliLat)
				return
			}
			if one[0] != '\n' {
				buf = append(buf, one[0])
				continue
			}
			now := time.Now()
			if ns, err := strconv.ParseInt(strings.TrimSpace(string(buf)), 10, 64); err == nil {
				cliLat <- now.Sub(time.Unix(0, ns))
			}
			buf = buf[:0]
		}
	}()
	time.Sleep(500 * time.Millisecond) // let both subscribe
	go func() {
		time.Sleep(300 * time.Millisecond)
		for i := 0; i < k; i++ {
			b.docker("pause", name)
			time.Sleep(150 * time.Millisecond)
			b.docker("unpause", name)
			time.Sleep(150 * time.Millisecond)
		}
	}()
	err = b.lua(fmt.Sprintf(`
		bench_lat = {}
		events.watch({filters = {container = %q, event = {"pause", "unpause"}}, ["until"] = now() + 60}, function(e)
			bench_lat[#bench_lat + 1] = now() - e.time
			return #bench_lat < %d
		end)`, name, 2*k))
	if err != nil {
		return nil, err
	}
	var ctrshLat, dockerLat []time.Duration
	t := b.L.GetGlobal("bench_lat").(*lua.LTable)
	for i := 1; i <= t.Len(); i++ {
		ctrshLat = append(ctrshLat, time.Duration(float64(t.RawGetInt(i).(lua.LNumber))*float64(time.Second)))
	}
	deadline := time.After(10 * time.Second)
collect:
	for len(dockerLat) < 2*k {
		select {
		case d, ok := <-cliLat:
			if !ok {
				break collect
			}
			dockerLat = append(dockerLat, d)
		case <-deadline:
			break collect
		}
	}
	return &latency{ctrsh: median(ctrshLat), docker: median(dockerLat), count: len(ctrshLat)}, nil
}

func (b *bench) setup() error {
	for i := 0; i < b.n; i++ {
		args := []string{"run", "-d", "--label", "ctrsh.bench=1", "--name", fmt.Sprintf("ctrsh-bench-%d", i), "--memory", "64m"}
		// Groups of the first 1, 20 and 100 containers, for the scaling table.
		for _, g := range scaleGroups {
			if i < g {
				args = append(args, "--label", fmt.Sprintf("ctrsh.bench.first%d=1", g))
			}
		}
		args = append(args, "ctrsh-test/busybox", "sh", "-c", "sleep 100000 & sleep 100000 & while true; do sleep 1; done")
		if _, err := b.docker(args...); err != nil {
			return err
		}
	}
	script := fmt.Sprintf("i=0; while [ $i -lt %d ]; do echo \"line $i level=info msg=request served\"; i=$((i+1)); [ $((i %% 1000)) -eq 0 ] && echo \"line $i level=error msg=upstream timeout\" >&2; done; sleep 100000", b.logLines)
	if _, err := b.docker("run", "-d", "--label", "ctrsh.bench=1", "--name", "ctrsh-bench-log", "ctrsh-test/busybox", "sh", "-c", script); err != nil {
		return err
	}
	// Wait until the log is written (its writer sleeps after the last line).
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := b.docker("top", "ctrsh-bench-log", "-o", "pid,args")
		if err == nil && !strings.Contains(out, "echo") && strings.Count(out, "sleep 100000") == 1 && !strings.Contains(out, "while") {
			break
		}
		time.Sleep(time.Second)
	}
	return b.lua(`bench_log = assert(docker.container("ctrsh-bench-log"))`)
}

func (b *bench) cleanup() {
	ids, err := b.docker("ps", "-aq", "--filter", "label=ctrsh.bench=1")
	if err != nil || ids == "" {
		return
	}
	b.docker(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
}

var scaleGroups = []int{1, 20, 100}

// scaling measures ctrsh alone on the first 1, 20 and 100 containers: the
// cost should follow the processes read, not engine round-trips.
func (b *bench) scaling() ([]string, error) {
	var rows []string
	for _, g := range scaleGroups {
		if g > b.n {
			break
		}
		filter := fmt.Sprintf("{label = \"ctrsh.bench.first%d=1\"}", g)
		var stats, top []time.Duration
		for i := 0; i <= b.rounds; i++ {
			t0 := time.Now()
			if err := b.lua("assert(docker.stats{filters = " + filter + "})"); err != nil {
				return nil, err
			}
			t1 := time.Now()
			if err := b.lua("for _, c in ipairs(assert(docker.containers{filters = " + filter + "})) do assert(c:top()) end"); err != nil {
				return nil, err
			}
			t2 := time.Now()
			if i > 0 {
				stats = append(stats, t1.Sub(t0))
				top = append(top, t2.Sub(t1))
			}
		}
		rows = append(rows, fmt.Sprintf("| %d | %s | %s |", g, fmtDur(median(stats)), fmtDur(median(top))))
	}
	return rows, nil
}

// pair is one ctrsh operation and its docker CLI counterpart.
type pair struct {
	name, ctrshDesc, dockerDesc, target string
	minRatio                            float64
	ctrsh, docker                       func() error
	rounds                              int
}

type result struct {
	pair
	ctrshMed, dockerMed time.Duration
}

func (b *bench) ctrshProcess(args ...string) (time.Duration, int64, error) {
	cmd := exec.Command(b.ctrsh, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+b.host)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, errb.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss * 1024
	}
	return d, rss, nil
}

func (b *bench) pairs() []pair {
	n := strconv.Itoa(b.n)
	return []pair{
		{
			name: "memory+pids, all running (N=" + n + ")", ctrshDesc: "docker.stats{}", dockerDesc: "docker stats --no-stream", target: "≥ 100×", minRatio: 100,
			ctrsh:  func() error { return b.lua(`local s = assert(docker.stats{}); assert(#s >= 1)`) },
			docker: func() error { _, err := b.docker("stats", "--no-stream"); return err },
		},
		{
			name: "cpu % over 1 s, all running (N=" + n + ")", ctrshDesc: "docker.stats{interval=1}", dockerDesc: "docker stats --no-stream", target: "≥ 1.7×", minRatio: 1.7, rounds: 3,
			ctrsh:  func() error { return b.lua(`local s = assert(docker.stats{interval=1}); assert(s[1].cpu.percent)`) },
			docker: func() error { _, err := b.docker("stats", "--no-stream"); return err },
		},
		{
			name: "host PID ↔ PID inside, every container (N=" + n + ")", ctrshDesc: "pidmap", dockerDesc: "loop of docker top", target: "≥ 10×", minRatio: 10,
			ctrsh: func() error {
				return b.lua(`for _, c in ipairs(assert(docker.containers())) do assert(c:top()) end`)
			},
			docker: func() error {
				ids, err := b.docker("ps", "-q")
				if err != nil {
					return err
				}
				for _, id := range strings.Fields(ids) {
					if _, err := b.docker("top", id); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "start, one statement, exit", ctrshDesc: "ctrsh -e 'print(1)'", dockerDesc: "docker version", target: "≥ 1×, RSS ≤ 30 MiB", minRatio: 1,
			ctrsh: func() error {
				_, r, err := b.ctrshProcess("-e", "print(1)")
				if r > b.peakRSS {
					b.peakRSS = r
				}
				return err
			},
			docker: func() error { _, err := b.docker("version"); return err },
		},
		{
			name: "last 100 lines of a " + strconv.Itoa(b.logLines) + "-line log", ctrshDesc: "c:logs{tail=100}", dockerDesc: "docker logs --tail 100", target: "≥ 1×", minRatio: 1,
			ctrsh: func() error {
				return b.lua(`local n = 0 for l in bench_log:logs{tail=100} do n = n + 1 end assert(n >= 100, n)`)
			},
			docker: func() error { _, err := b.docker("logs", "--tail", "100", "ctrsh-bench-log"); return err },
		},
		{
			name: "lines matching a pattern in that log", ctrshDesc: "c:logs{grep=...}", dockerDesc: "docker logs | grep", target: "≥ 1×", minRatio: 1, rounds: 3,
			ctrsh: func() error {
				return b.lua(`local n = 0 for l in bench_log:logs{tail=-1, grep="level=error"} do n = n + 1 end assert(n > 0)`)
			},
			docker: func() error {
				cmd := exec.Command("sh", "-c", b.config.docker+" -H "+b.host+" logs ctrsh-bench-log 2>&1 | grep -c level=error")
				return cmd.Run()
			},
		},
	}
}

func (b *bench) measure(p pair) (result, error) {
	rounds := b.rounds
	if p.rounds > 0 && p.rounds < rounds {
		rounds = p.rounds
	}
	var a, d []time.Duration
	for i := 0; i <= rounds; i++ {
		t0 := time.Now()
		if err := p.ctrsh(); err != nil {
			return result{}, fmt.Errorf("ctrsh: %w", err)
		}
		t1 := time.Now()
		if err := p.docker(); err != nil {
			return result{}, fmt.Errorf("docker: %w", err)
		}
		t2 := time.Now()
		if i == 0 {
			continue // warm-up
		}
		a = append(a, t1.Sub(t0))
		d = append(d, t2.Sub(t1))
	}
	return result{pair: p, ctrshMed: median(a), dockerMed: median(d)}, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func (b *bench) report(rs []result, lat *latency) {
	host, _ := os.Hostname()
	engine, _ := b.docker("version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})")
	fmt.Printf("ctrsh-bench %s: %s, %d cores, %s, engine %s, N=%d, %d rounds after a warm-up\n\n",
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), kernel(), engine, b.n, b.rounds)
	fmt.Println("| operation | ctrsh | median | docker CLI | median | ratio | target | met |")
	fmt.Println("| --- | --- | ---: | --- | ---: | ---: | --- | --- |")
	for _, r := range rs {
		ratio := float64(r.dockerMed) / float64(r.ctrshMed)
		met := "yes"
		if ratio < r.minRatio {
			met = "NO"
		}
		fmt.Printf("| %s | `%s` | %s | `%s` | %s | %.1f× | %s | %s |\n",
			r.name, r.ctrshDesc, fmtDur(r.ctrshMed), r.dockerDesc, fmtDur(r.dockerMed), ratio, r.target, met)
	}
	if lat != nil {
		met := "yes"
		if lat.ctrsh > 50*time.Millisecond {
			met = "NO"
		}
		fmt.Printf("| event delay: engine timestamp of a pause/unpause → delivery (%d events) | `events.watch` callback | %s | `docker events` on a pipe | %s | — | median ≤ 50 ms | %s |\n",
			lat.count, fmtDur(lat.ctrsh), fmtDur(lat.docker), met)
	}
	if b.peakRSS > 0 {
		met := "yes"
		if b.peakRSS > 30<<20 {
			met = "NO"
		}
		fmt.Printf("\npeak RSS of `ctrsh -e 'print(1)'`: %.1f MiB (target ≤ 30 MiB: %s)\n", float64(b.peakRSS)/(1<<20), met)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
}

func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "linux"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return "Linux " + string(b)
}
