package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// op is one ctrsh command line and its docker CLI counterpart, each run as a
// whole process.
type op struct {
	name                  string
	n                     int  // benchmark containers running
	perContainer          bool // an operation over every running container (the cost curve)
	ctrshDesc, dockerDesc string
	ctrsh, docker         []string // argv; ctrsh's without the binary
	target                float64  // the ratio docker/ctrsh to reach
	rounds                int      // pairs to run; 0: the configured number
	// compare, if set, checks the two sides' outputs of a run and says how
	// they differ ("" when they agree).
	compare func(c, d *tally) string
}

// tally is a process's stdout, counted rather than kept: its lines and the
// last bytes written (where a printed count is).
type tally struct {
	lines int
	tail  []byte
}

func (t *tally) Write(p []byte) (int, error) {
	t.lines += bytes.Count(p, []byte{'\n'})
	t.tail = append(t.tail, p...)
	if len(t.tail) > 256 {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-256:]...)
	}
	return len(p), nil
}

// last is the last non-empty line written.
func (t *tally) last() string {
	s := strings.TrimSpace(string(t.tail))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// proc runs argv to its end and returns its wall time and its peak RSS
// (wait4's ru_maxrss).
func (b *bench) proc(argv []string, out *tally) (time.Duration, int64, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = b.env
	cmd.Stdout = out
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(errb.String()))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	return d, rss, nil
}

// measure runs the pair alternately, ctrsh then docker, a warm-up pair and
// then the configured number, and returns the row of medians. The peak RSS
// is the largest of every ctrsh run, the warm-up's included.
func (b *bench) measure(o op) (Row, error) {
	if o.rounds == 0 || o.rounds > b.rounds {
		o.rounds = b.rounds
	}
	running := b.running()
	ctrshArgv := append([]string{b.ctrshBin}, o.ctrsh...)
	var cs, ds []time.Duration
	var peak int64
	var check string
	for i := 0; i <= o.rounds; i++ {
		var co, do tally
		c, rss, err := b.proc(ctrshArgv, &co)
		if err != nil {
			return Row{}, fmt.Errorf("ctrsh: %w", err)
		}
		d, _, err := b.proc(o.docker, &do)
		if err != nil {
			return Row{}, fmt.Errorf("docker: %w", err)
		}
		peak = max(peak, rss)
		if o.compare != nil && check == "" {
			check = o.compare(&co, &do)
		}
		if i > 0 {
			cs, ds = append(cs, c), append(ds, d)
		}
	}
	r := newRow(o, running, median(cs), median(ds), peak)
	r.Check = check
	return r, nil
}

// running counts the engine's running containers, everyone's.
func (b *bench) running() int {
	out, err := b.docker("ps", "-q")
	if err != nil {
		return 0
	}
	return len(strings.Fields(out))
}

func (b *bench) docker(args ...string) (string, error) {
	cmd := exec.Command(b.dockerBin, args...)
	cmd.Env = b.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// benchEnv is the environment of every command: this engine only.
func benchEnv(host, dockerBin string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DOCKER_HOST="+host, "D="+dockerBin)
}
