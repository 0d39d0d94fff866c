package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func floodEvent(i int, at time.Time) *Event {
	id := fmt.Sprintf("%064x", i%97)
	code := i % 256
	return &Event{Time: at, Source: SourceEngine, Type: "container", Action: "die", ActorID: id, ContainerID: id,
		ContainerName: fmt.Sprintf("flood-%d", i%97), Image: "ctrsh-test/busybox", ExitCode: &code,
		Attributes: map[string]string{"name": fmt.Sprintf("flood-%d", i%97), "image": "ctrsh-test/busybox", "exitCode": fmt.Sprint(code)},
		Dedup:      EngineDedup("container", "die", id, at.UnixNano())}
}

func startWriter(t *testing.T, s *Store, cfg *Config) (*writer, func()) {
	t.Helper()
	cfg.defaults()
	w, err := newWriter(context.Background(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.run(ctx)
		close(done)
	}()
	return w, func() {
		cancel()
		<-done
	}
}

// Under a flood with a 1 MiB limit, the file stays near 1 MiB and the rows
// that go are the oldest.
func TestMaxSizeDropsOldestFirst(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var log syncBuffer
	w, stop := startWriter(t, s, &Config{Path: path, MaxSize: 1 << 20, Tick: 20 * time.Millisecond, Log: &log})
	base := time.Now().Add(-time.Hour)
	const n = 40000
	var maxFile int64
	for i := 0; i < n; i++ {
		w.add(context.Background(), floodEvent(i, base.Add(time.Duration(i)*time.Millisecond)))
		if i%1000 == 0 {
			time.Sleep(10 * time.Millisecond)
			if fi, err := os.Stat(path); err == nil {
				maxFile = max(maxFile, fi.Size())
			}
		}
	}
	stop()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	maxFile = max(maxFile, fi.Size())
	var wal int64
	if wi, err := os.Stat(path + "-wal"); err == nil {
		wal = wi.Size()
	}
	t.Logf("file %d bytes at the end, %d at most; WAL %d bytes; log: %s", fi.Size(), maxFile, wal, log.String())
	if maxFile > 1<<20+1<<18 {
		t.Errorf("the file grew to %d bytes with --max-size 1MiB", maxFile)
	}
	if wal > 1<<19 {
		t.Errorf("the WAL is %d bytes with --max-size 1MiB", wal)
	}
	evs, err := s.Events(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || len(evs) >= n {
		t.Fatalf("%d rows kept of %d", len(evs), n)
	}
	// What is left is the newest rows, every one of them.
	first := n - len(evs)
	for i, ev := range evs {
		if want := base.Add(time.Duration(first+i) * time.Millisecond); !ev.Time.Equal(want) {
			t.Fatalf("row %d is at %v, want %v: the kept rows are not the newest %d", i, ev.Time, want, len(evs))
		}
	}
	t.Logf("%d of %d rows kept, the newest", len(evs), n)
}

// tmpfs mounts a small tmpfs for the test.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	testengine.NeedRoot(t, "mounting a tmpfs")
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "ctrsh-journal-test", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// A full filesystem: the recorder says so once, keeps running and keeps
// what it records, and writes it when space is freed; no row is half
// written.
func TestRecorderSurvivesFullDisk(t *testing.T) {
	dir := tmpfs(t, "3m")
	testengine.Run(t, testengine.BusyboxImage, "sleep", "1000") // something to sample
	path := filepath.Join(dir, "journal.db")
	e, err := docker.NewEngine(testengine.Host(t))
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	kmsg := newCannedKmsg()
	go func() {
		done <- Record(ctx, Config{Path: path, Engine: e, Sample: 50 * time.Millisecond, Tick: 50 * time.Millisecond,
			Log: &log, Kmsg: func() (KmsgReader, error) { return kmsg, nil }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Record: %v", err)
		}
	}()
	waitLog := func(s string, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !strings.Contains(log.String(), s) {
			select {
			case err := <-done:
				t.Fatalf("the recorder stopped (%v) before saying %q: %s", err, s, log.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the recorder did not say %q within %v: %s", s, limit, log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("recording", 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	fullAt := time.Now()
	waitLog("disk full", 20*time.Second)
	time.Sleep(2 * time.Second) // it keeps sampling while full
	freedAt := time.Now()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitLog("writing again", 20*time.Second)
	if n := strings.Count(log.String(), "disk full"); n != 1 {
		t.Errorf("the recorder said \"disk full\" %d times, want once: %s", n, log.String())
	}
	time.Sleep(200 * time.Millisecond)
	s, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	samples, err := s.Samples(context.Background(), Filter{Since: fullAt.Add(500 * time.Millisecond), Until: freedAt})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Errorf("no samples taken while the disk was full were written after it was freed")
	}
	for _, sm := range samples {
		if sm.ContainerID == "" || sm.MemoryUsage == nil || sm.CPUUsageNs == nil {
			t.Errorf("a partial sample row: %+v", sm)
		}
	}
	t.Logf("%d samples taken while the disk was full were written after; the recorder said: %s", len(samples), log.String())
}

// Rows older than --retain go; the others stay.
func TestRetainDropsOldRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var log syncBuffer
	w, stop := startWriter(t, s, &Config{Path: path, Retain: time.Hour, Tick: 20 * time.Millisecond, Log: &log})
	now := time.Now()
	for i, at := range []time.Time{now.Add(-3 * time.Hour), now.Add(-61 * time.Minute), now.Add(-59 * time.Minute), now} {
		w.add(context.Background(), floodEvent(i, at))
		w.add(context.Background(), &Sample{Time: at, ContainerID: "c", ContainerName: "c"})
	}
	stop()
	evs, err := s.Events(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := s.Samples(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || len(sms) != 2 || evs[0].Time.Before(now.Add(-time.Hour)) || sms[0].Time.Before(now.Add(-time.Hour)) {
		t.Errorf("after retention: %d events, %d samples (want the 2 of the last hour each); log %s", len(evs), len(sms), log.String())
	}
}

// Another process reading the journal (sqlite3, ctrsh's journal module)
// sees every commit and never takes the WAL away from the writer (a
// reader that believes it is the last user checkpoints and deletes the
// WAL when it closes).
func TestReadersDoNotTakeTheWALAway(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatalf("sqlite3: %v (fixtures/engine.sh start installs it)", err)
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := func() string {
		t.Helper()
		out, err := exec.Command("sqlite3", path, "select count(*) from events").CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3: %v %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	now := time.Now()
	for i := 1; i <= 3; i++ {
		if err := s.Append(context.Background(), []*Event{floodEvent(i, now.Add(time.Duration(i)))}, nil); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != fmt.Sprint(i) {
			t.Fatalf("after %d appends sqlite3 counts %s rows", i, got)
		}
		if _, err := os.Stat(path + "-wal"); err != nil {
			t.Errorf("after %d appends and a reader: the WAL is gone (%v)", i, err)
		}
	}
}
