package journal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// The recorder runs in a child process (this test binary, re-executed with
// recordEnv set), so that tests can kill -9 it.
const recordEnv = "CTRSH_JOURNAL_TEST_RECORD"

func TestMain(m *testing.M) {
	if path := os.Getenv(recordEnv); path != "" {
		os.Exit(recordChild(path))
	}
	os.Exit(m.Run())
}

func recordChild(path string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	e, err := docker.NewEngine(testengine.Endpoint())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := Config{Path: path, Engine: e, Retain: 14 * 24 * time.Hour}
	if s := os.Getenv("CTRSH_JOURNAL_TEST_SAMPLE"); s != "" {
		cfg.Sample, _ = time.ParseDuration(s)
	}
	if s := os.Getenv("CTRSH_JOURNAL_TEST_MAXSIZE"); s != "" {
		cfg.MaxSize, _ = strconv.ParseInt(s, 10, 64)
	}
	if ep := os.Getenv("CTRSH_JOURNAL_TEST_CRI"); ep != "" {
		c, err := cri.Dial(ctx, ep)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cfg.CRI = c
	}
	if err := Record(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ctrsh:", err)
		return 1
	}
	return 0
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type child struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

// startRecorder starts a recorder on path and waits until it records.
func startRecorder(t *testing.T, path string, env ...string) *child {
	t.Helper()
	testengine.Host(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), recordEnv+"="+path), env...)
	c := &child{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("recorder's messages:\n%s", c.stderr.String())
		}
	})
	c.waitFor(t, "recording", 30*time.Second)
	return c
}

// waitFor waits until the recorder has said s.
func (c *child) waitFor(t *testing.T, s string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(c.stderr.String(), s) {
		select {
		case <-c.done:
			t.Fatalf("the recorder exited before saying %q: %s", s, c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recorder did not say %q within %v: %s", s, limit, c.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the recorder with SIGTERM and waits for it.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the recorder did not stop within 20s of SIGTERM")
	}
}

// waitRows polls the journal until cond holds for the events f selects.
func waitRows(t *testing.T, path string, f Filter, what string, limit time.Duration, cond func([]*Event) bool) []*Event {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last []*Event
	var lastErr error
	for {
		s, err := OpenReadOnly(context.Background(), path)
		if err == nil {
			var evs []*Event
			evs, err = s.Events(context.Background(), f)
			s.Close()
			if err == nil {
				last = evs
				if cond(evs) {
					return evs
				}
			}
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			for _, ev := range last {
				t.Logf("row: %s %s %s %.12s %s", ev.Time.Format(time.RFC3339Nano), ev.Source, ev.Action, ev.ContainerID, ev.ContainerName)
			}
			t.Fatalf("journal: %s: not within %v (the last read error: %v)", what, limit, lastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func stamp() string { return fmt.Sprintf("%.9f", float64(time.Now().UnixNano())/1e9) }

type engineKey struct {
	id, action string
	timeNano   int64
}

// referenceEvents asks the engine for the events of containers labelled
// label between since and now.
func referenceEvents(t *testing.T, label, since string) []engineKey {
	t.Helper()
	out := testengine.MustDocker(t, "events", "--since", since, "--until", stamp(),
		"--filter", "label="+label, "--format", "{{.Actor.ID}} {{.Action}} {{.TimeNano}}")
	var keys []engineKey
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("docker events: %q: %v", line, err)
		}
		keys = append(keys, engineKey{f[0], f[1], n})
	}
	return keys
}

// churn creates, starts, stops and removes n containers labelled label:
// create, start, kill, die, stop, destroy each.
func churn(t *testing.T, label string, n int) {
	t.Helper()
	for done := 0; done < n; {
		batch := min(10, n-done)
		var ids []string
		for i := 0; i < batch; i++ {
			id := testengine.MustDocker(t, "create", "--label", testengine.Label+"=1", "--label",
				fmt.Sprintf("%s=%d", testengine.PIDLabel, os.Getpid()), "--label", label, testengine.BusyboxImage, "sleep", "1000")
			ids = append(ids, id)
		}
		testengine.MustDocker(t, append([]string{"start"}, ids...)...)
		testengine.MustDocker(t, append([]string{"stop", "-t", "0"}, ids...)...)
		testengine.MustDocker(t, append([]string{"rm"}, ids...)...)
		done += batch
	}
}

// While the recorder runs, 80 containers are created, started, stopped and
// removed (over 480 events, more than the engine's 256-event memory), the
// engine is restarted twice and the recorder is killed with SIGKILL and
// started again: every event the engine reported is in the journal exactly
// once, the engine's downtime is there as rows, sqlite3 reads the file
// while it is written, and the file is 0600.
func TestRecorderKeepsEveryEventOnce(t *testing.T) {
	testengine.NeedRoot(t, "the recorder reads cgroups and /dev/kmsg")
	testengine.Host(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "journal.db")
	label := fmt.Sprintf("ctrsh.case=journal-%d", time.Now().UnixNano())
	rec := startRecorder(t, path, "CTRSH_JOURNAL_TEST_SAMPLE=1s")
	t0 := stamp()

	var want []engineKey
	since := t0
	churn(t, label, 20)
	want = append(want, referenceEvents(t, label, since)...)
	testengine.Restart(t)

	since = stamp()
	churn(t, label, 10)
	// kill -9 mid-stream: what happens while it is down is replayed from
	// the engine when it comes back.
	rec.cmd.Process.Kill()
	<-rec.done
	churn(t, label, 10)
	rec = startRecorder(t, path, "CTRSH_JOURNAL_TEST_SAMPLE=1s")
	churn(t, label, 10)
	out, err := exec.Command("sqlite3", path, "select count(*) from events").CombinedOutput()
	if n, perr := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || perr != nil || n == 0 {
		t.Errorf("sqlite3 while the recorder writes: %v %q", err, out)
	}
	want = append(want, referenceEvents(t, label, since)...)
	testengine.Restart(t)

	since = stamp()
	churn(t, label, 30)
	want = append(want, referenceEvents(t, label, since)...)
	engineNow := referenceEvents(t, label, t0)

	last := want[len(want)-1]
	rows := waitRows(t, path, Filter{}, "the last container's destroy", 60*time.Second, func(evs []*Event) bool {
		for _, ev := range evs {
			if ev.ActorID == last.id && ev.Action == last.action {
				return true
			}
		}
		return false
	})
	rec.stop(t)

	type key struct {
		id, action string
		ns         int64
	}
	count := map[key]int{}
	var downs, ups []*Event
	for _, ev := range rows {
		if ev.Source == SourceEngine && ev.Attributes["reconciled"] != "true" {
			count[key{ev.ActorID, ev.Action, ev.Time.UnixNano()}]++
		}
		switch ev.Action {
		case ActionEngineDown:
			downs = append(downs, ev)
		case ActionEngineUp:
			ups = append(ups, ev)
		}
	}
	for k, n := range count {
		if n > 1 {
			t.Errorf("event %.12s %s at %d is in the journal %d times", k.id, k.action, k.ns, n)
		}
	}
	if len(want) < 320 {
		t.Errorf("the engine reported %d events for the test's containers, want at least 320", len(want))
	}
	for _, w := range want {
		if n := count[key{w.id, w.action, w.timeNano}]; n != 1 {
			t.Errorf("event %.12s %s at %d: in the journal %d times, want 1", w.id, w.action, w.timeNano, n)
		}
	}
	if len(engineNow) >= len(want) {
		t.Errorf("docker events --since of the whole span returns %d events, the journal %d: the engine was expected to have forgotten some", len(engineNow), len(want))
	}
	t.Logf("%d events of the test's containers in the journal; docker events --since returns %d of them", len(want), len(engineNow))
	if len(downs) < 2 || len(ups) < 2 {
		t.Errorf("engine downtime: %d engine_down and %d engine_up rows, want 2 of each", len(downs), len(ups))
	}
	for i := 0; i < len(downs) && i < len(ups); i++ {
		if !ups[i].Time.After(downs[i].Time) {
			t.Errorf("engine_up %v is not after engine_down %v", ups[i].Time, downs[i].Time)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o600 || st.Uid != 0 {
		t.Errorf("%s: mode %v uid %d, want 0600 root", path, fi.Mode().Perm(), st.Uid)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700 (%v)", filepath.Dir(path), di.Mode().Perm(), err)
	}
}

// The deterministic OOM kill of a process that is not the container's
// init: the container keeps running and the engine says OOMKilled=false,
// but the journal has the kill from the cgroup counter and, from the
// kernel's log, the victim's pid and comm.
func TestRecorderOOMKillOfNonInit(t *testing.T) {
	testengine.NeedRoot(t, "the recorder reads cgroups and /dev/kmsg")
	path := filepath.Join(t.TempDir(), "journal.db")
	rec := startRecorder(t, path, "CTRSH_JOURNAL_TEST_SAMPLE=1s")
	id := testengine.Run(t, "--memory", "32m", "--memory-swap", "32m", testengine.BusyboxImage, "sh", "-c",
		"sleep 1; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100000")
	// The shell's pipeline can lose head too (a second kill): tail, the
	// process the kernel picks first, is the one to find.
	rows := waitRows(t, path, Filter{Container: id, Actions: []string{ActionOOMKill}}, "an OOM kill of tail from the kernel's log and the counter",
		60*time.Second, func(evs []*Event) bool {
			var k, c bool
			for _, ev := range evs {
				k = k || ev.Source == SourceKmsg && ev.Comm == "tail"
				c = c || ev.Source == SourceCgroup
			}
			return k && c
		})
	if st := testengine.MustDocker(t, "inspect", "-f", "{{.State.Status}} {{.State.OOMKilled}}", id); st != "running false" {
		t.Errorf("container state %q, want \"running false\" (the case the engine does not report)", st)
	}
	name := strings.TrimPrefix(testengine.MustDocker(t, "inspect", "-f", "{{.Name}}", id), "/")
	// The victim as the kernel logged it, read by dmesg(1).
	dmesg, err := exec.Command("dmesg").Output()
	if err != nil {
		t.Fatalf("dmesg: %v", err)
	}
	wantPID := ""
	for _, line := range strings.Split(string(dmesg), "\n") {
		if i := strings.Index(line, "task_memcg=/docker/"+id+",task=tail,pid="); i >= 0 {
			wantPID = strings.Split(line[i+len("task_memcg=/docker/"+id+",task=tail,pid="):], ",")[0]
		}
	}
	var counted uint64
	for _, ev := range rows {
		if ev.ContainerID != id || ev.ContainerName != name {
			t.Errorf("%s row names container %.12s %q, want %.12s %q", ev.Source, ev.ContainerID, ev.ContainerName, id, name)
		}
		switch ev.Source {
		case SourceKmsg:
			if ev.Comm == "tail" && (ev.PID == nil || strconv.Itoa(*ev.PID) != wantPID || ev.Memcg != "/docker/"+id) {
				t.Errorf("kernel log row of tail: pid %v memcg %q, want pid %s memcg /docker/%s", ev.PID, ev.Memcg, wantPID, id)
			}
		case SourceCgroup:
			n, err := strconv.ParseUint(ev.Attributes["new"], 10, 64)
			if ev.OOMKills == nil || err != nil || n == 0 || *ev.OOMKills != counted+n {
				t.Errorf("cgroup row: oom_kills %v, attributes %v, want %d plus the new kills", ev.OOMKills, ev.Attributes, counted)
			} else {
				counted = *ev.OOMKills
			}
		}
	}
	if counted == 0 {
		t.Errorf("the cgroup rows count no kill")
	}
	// The samples carry the counter too.
	var last *Sample
	deadline := time.Now().Add(15 * time.Second)
	for last == nil || last.OOMKills == nil || *last.OOMKills < counted {
		if time.Now().After(deadline) {
			t.Fatalf("no sample of the container with its OOM kill counted (last: %+v)", last)
		}
		time.Sleep(200 * time.Millisecond)
		s, err := OpenReadOnly(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		samples, err := s.Samples(context.Background(), Filter{Container: name, Limit: 1})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(samples) > 0 {
			last = samples[0]
		}
	}
	rec.stop(t)
	v := func(p *uint64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	if *last.OOMKills < counted || last.MemoryLimit == nil || *last.MemoryLimit != 32<<20 ||
		last.MemoryWorkingSet == nil || last.CPUUsageNs == nil || last.Pids == nil || *last.Pids < 1 {
		t.Errorf("last sample: oom_kills %v limit %v working set %v cpu %v pids %v; want oom_kills %d, limit 32 MiB, a working set, CPU time and a pid count",
			v(last.OOMKills), counted, v(last.MemoryLimit), v(last.MemoryWorkingSet), v(last.CPUUsageNs), v(last.Pids))
	}
}
