package trace_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/trace"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func TestRecentKeepsTheLastOfEach(t *testing.T) {
	r := trace.NewRecent(3)
	for i := 0; i < 5; i++ {
		r.Add(trace.Event{Kind: trace.KindExec, ContainerID: "a", PID: i})
		r.Add(trace.Event{Kind: trace.KindExec, ContainerID: "b", PID: 100 + i})
	}
	r.Add(trace.Event{Kind: trace.KindLost, Lost: 3})
	r.Add(trace.Event{Kind: trace.KindExec})
	pids := func(evs []trace.Event) string {
		s := ""
		for _, e := range evs {
			s += fmt.Sprint(e.PID, " ")
		}
		return s
	}
	for _, c := range []struct {
		id   string
		n    int
		want string
	}{{"a", 10, "2 3 4 "}, {"a", 2, "3 4 "}, {"b", 3, "102 103 104 "}, {"", 5, ""}, {"c", 1, ""}} {
		if got := pids(r.Last(c.id, c.n)); got != c.want {
			t.Errorf("Last(%q, %d) = %s, want %s", c.id, c.n, got, c.want)
		}
	}
	r.Forget("a")
	if got := r.Last("a", 5); len(got) != 0 {
		t.Errorf("after Forget: %v", got)
	}
}

// WatchExecs, as `ctrsh top` will use it: the last execs of one container.
func TestWatchExecs(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	id := testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "i=0; while true; do i=$((i+1)); /bin/echo $i >/dev/null; sleep 0.1; done")
	other := testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "while true; do /bin/ls / >/dev/null; sleep 0.1; done")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, done, err := trace.WatchExecs(ctx, 5, func(id string) string { return "name-" + id[:4] })
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(r.Last(id, 3)) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	last := r.Last(id, 3)
	if len(last) != 3 {
		t.Fatalf("Last(id, 3) = %d events after 20 s", len(last))
	}
	for i, e := range last {
		if e.ContainerID != id || e.Kind != trace.KindExec || e.Container != "name-"+id[:4] || len(e.Argv) != 2 || (e.Argv[0] != "/bin/echo" && e.Argv[0] != "sleep") {
			t.Errorf("event %d: %+v", i, e)
		}
		if i > 0 && e.Time.Before(last[i-1].Time) {
			t.Errorf("event %d is older than the one before", i)
		}
	}
	if n := len(r.Last(other, 10)); n == 0 || n > 5 {
		t.Errorf("the other container: %d events kept, want 1 to 5", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchExecs did not stop with its context")
	}
}
