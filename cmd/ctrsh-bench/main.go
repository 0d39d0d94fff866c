// Command ctrsh-bench measures ctrsh against the docker CLI on the private
// test engine, each side as a whole process (what a cron job or a person at
// the prompt waits for): the ctrsh binary and the docker CLI run in turn,
// A B A B, a warm-up pair and then 7, and the medians, their ratio, the
// target and ctrsh's peak RSS (wait4's ru_maxrss, the largest of its runs)
// make one row. Stats and pidmap are measured at every N of the cost curve
// (-curve, default 1,20,100,300); the log and process-table rows at N (-n).
// The table goes to stdout (Markdown, README-ready) and to bench.json (-json)
// so runs can be compared. Ratios from one run are what count: the machine
// is shared and noisy.
//
// It creates its own containers (label ctrsh.bench=1) from the local busybox
// image, without network, and removes them at the end (and on Ctrl-C); it
// never touches containers it did not create. `make bench [N=100]` runs it;
// -quick is a small run for development.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	host, ctrshBin, dockerBin  string
	n                          int
	curve                      []int
	rounds, logLines, topProcs int
	jsonPath, only             string
	events                     bool
}

// bench is one run: its configuration, the environment of every command,
// and how many numbered containers it has started.
type bench struct {
	config
	env     []string
	started int
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err == nil {
		err = run(c)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ctrsh-bench: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var c config
	var curve string
	var quick bool
	fs := flag.NewFlagSet("ctrsh-bench", flag.ContinueOnError)
	fs.StringVar(&c.host, "host", envOr("CTRSH_TEST_DOCKER_HOST", "unix:///run/ctrsh-test/docker.sock"), "engine endpoint")
	fs.StringVar(&c.ctrshBin, "ctrsh", "bin/ctrsh", "ctrsh binary")
	fs.StringVar(&c.dockerBin, "docker", "docker", "docker CLI")
	fs.IntVar(&c.n, "n", 100, "running containers for the main table")
	fs.StringVar(&curve, "curve", "1,20,100,300", "the Ns at which stats and pidmap are measured (the cost curve)")
	fs.IntVar(&c.rounds, "rounds", 7, "measured pairs per row (after one warm-up pair)")
	fs.IntVar(&c.logLines, "log-lines", 1000000, "lines in the big log")
	fs.IntVar(&c.topProcs, "top-procs", 3000, "processes in the container whose c:top() is measured")
	fs.StringVar(&c.jsonPath, "json", "bench.json", "where to write the results as JSON (empty: nowhere)")
	fs.StringVar(&c.only, "only", "", "measure only the rows whose operation contains this")
	fs.BoolVar(&c.events, "events", true, "also measure the delay of events.watch against docker events")
	fs.BoolVar(&quick, "quick", false, "a small run for development: -n 5 -curve 1,5 -rounds 3 -log-lines 20000 -top-procs 300 (flags given win)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if quick {
		quickDefaults(fs, &c, &curve)
	}
	var err error
	if c.curve, err = parseList(curve); err != nil {
		return c, err
	}
	if c.n < 1 || c.rounds < 1 || c.logLines < 1000 || c.topProcs < 1 {
		return c, fmt.Errorf("-n, -rounds and -top-procs must be positive and -log-lines at least 1000")
	}
	return c, nil
}

// quickDefaults sets the small run's values for the flags not given.
func quickDefaults(fs *flag.FlagSet, c *config, curve *string) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["n"] {
		c.n = 5
	}
	if !set["curve"] {
		*curve = "1,5"
	}
	if !set["rounds"] {
		c.rounds = 3
	}
	if !set["log-lines"] {
		c.logLines = 20000
	}
	if !set["top-procs"] {
		c.topProcs = 300
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(c config) error {
	start := time.Now()
	b := &bench{config: c, env: benchEnv(c.host, c.dockerBin)}
	defer holdEngineLock()()
	engine, err := b.docker("version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})")
	if err != nil {
		return fmt.Errorf("no engine at %s (make engine starts it): %v", c.host, err)
	}
	if _, err := os.Stat(c.ctrshBin); err != nil {
		return fmt.Errorf("ctrsh binary: %w (make build makes it)", err)
	}
	rep := &Report{Date: start.UTC().Format("2006-01-02 15:04 MST"), Machine: machine(engine),
		N: c.n, Curve: c.curve, Rounds: c.rounds}
	b.cleanup()
	defer b.cleanup()
	defer b.cleanupOnSignal()()
	// What was measured is reported even when a step failed.
	measureErr := b.measureAll(rep)
	fillMarginal(rep.Rows)
	rep.Elapsed = time.Since(start).Round(time.Second).String()
	rep.Machine.LoadEnd = loadavg()
	writeReport(os.Stdout, rep)
	if c.jsonPath != "" {
		f, err := os.Create(c.jsonPath)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := writeJSON(f, rep); err != nil {
			return fmt.Errorf("%s: %w", c.jsonPath, err)
		}
		fmt.Fprintf(os.Stderr, "ctrsh-bench: wrote %s\n", c.jsonPath)
	}
	return measureErr
}

// measureAll writes the log, then grows the number of running containers
// through the curve's Ns (and N), measuring the per-container rows at each
// and the others at N.
func (b *bench) measureAll(rep *Report) error {
	var since, until string
	if b.wantAny(b.logOps("", "")) {
		b.progress("writing a %d-line log", b.logLines)
		if err := b.writeLog(); err != nil {
			return err
		}
		var err error
		if since, until, err = b.logWindow(); err != nil {
			return err
		}
	}
	for _, level := range levels(b.curve, b.n) {
		b.progress("starting containers up to N=%d", level)
		if err := b.scaleTo(level); err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, b.measureOps(b.perContainerOps(level))...)
		if level != b.n {
			continue
		}
		rep.Rows = append(rep.Rows, b.measureOps(append(b.otherOps(), b.logOps(since, until)...))...)
		rows, err := b.measureTop()
		rep.Rows = append(rep.Rows, rows...)
		if err != nil {
			return err
		}
		if b.events && (b.only == "" || strings.Contains("events", b.only)) {
			b.progress("measuring the delay of events")
			if rep.Events, err = b.eventLatency("ctrsh-bench-0", 2*b.rounds); err != nil {
				return fmt.Errorf("event delay: %w", err)
			}
		}
	}
	return nil
}

// measureTop starts the container of many processes, measures its c:top()
// and removes it, so that it weighs on no other row.
func (b *bench) measureTop() ([]Row, error) {
	o := b.topOp()
	if !b.want(o) {
		return nil, nil
	}
	b.progress("starting a container of %d processes", b.topProcs)
	if err := b.startTop(); err != nil {
		return nil, err
	}
	rows := b.measureOps([]op{o})
	b.progress("removing the container of %d processes", b.topProcs)
	return rows, b.remove(topName)
}

// measureOps measures the wanted ops; one that fails makes a row saying so,
// and the run goes on.
func (b *bench) measureOps(ops []op) []Row {
	var rows []Row
	for _, o := range ops {
		if !b.want(o) {
			continue
		}
		o.n = b.started
		b.progress("measuring %s (N=%d)", o.name, o.n)
		r, err := b.measure(o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ctrsh-bench: %s: %v\n", o.name, err)
			r = Row{Operation: o.name, N: o.n, Ctrsh: o.ctrshDesc, Docker: o.dockerDesc, Target: o.target,
				Miss: "error", Check: "failed: " + err.Error()}
		}
		rows = append(rows, r)
	}
	return rows
}

func (b *bench) want(o op) bool { return b.only == "" || strings.Contains(o.name, b.only) }

func (b *bench) wantAny(ops []op) bool {
	for _, o := range ops {
		if b.want(o) {
			return true
		}
	}
	return false
}

var progressStart = time.Now()

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6s] %s\n", time.Since(progressStart).Round(time.Second), fmt.Sprintf(format, args...))
}

// levels is the curve's Ns and N, sorted, each once.
func levels(curve []int, n int) []int {
	out := []int{n}
	for _, v := range curve {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// holdEngineLock holds the test engine's shared lock, as test processes do,
// so that no test restarts the engine in the middle of a measurement.
func holdEngineLock() func() {
	f, err := os.OpenFile("/run/ctrsh-test/use.lock", os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return func() {}
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	return func() { f.Close() }
}

// cleanupOnSignal removes the benchmark's containers when the run is
// interrupted; the returned function stops watching.
func (b *bench) cleanupOnSignal() func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-ch; ok {
			fmt.Fprintln(os.Stderr, "ctrsh-bench: interrupted; removing the benchmark's containers")
			b.cleanup()
			os.Exit(130)
		}
	}()
	return func() { signal.Stop(ch); close(ch) }
}

func machine(engine string) Machine {
	host, _ := os.Hostname()
	return Machine{Host: host, Cores: runtime.NumCPU(), Kernel: kernel(), Engine: engine, LoadStart: loadavg()}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "Linux"
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
