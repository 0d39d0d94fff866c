package events

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDedup(t *testing.T) {
	var d dedup
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	ev := func(off time.Duration, id, action string) Event {
		return Event{Type: "container", ID: id, Action: action, TimeNano: base + int64(off)}
	}
	steps := []struct {
		ev   Event
		want bool
	}{
		{ev(0, "a", "create"), true},
		{ev(0, "a", "start"), true},
		{ev(0, "a", "create"), false},                    // repeated by a resume
		{ev(500*time.Millisecond, "b", "create"), true},  // new
		{ev(0, "a", "start"), false},                     // repeated
		{ev(-2*time.Second, "c", "create"), false},       // older than the resume window
		{ev(300*time.Millisecond, "c", "create"), true},  // late but in the window, not seen
		{ev(3*time.Second, "a", "die"), true},            // moves the window
		{ev(500*time.Millisecond, "b", "create"), false}, // out of the window now
		{ev(3*time.Second, "a", "die"), false},           // repeated
		{ev(3*time.Second, "a", "destroy"), true},        // same time, other action
		{ev(3*time.Second, "b", "die"), true},            // same time, other id
	}
	for i, s := range steps {
		if got := d.add(s.ev); got != s.want {
			t.Errorf("step %d (%s %s %d): add = %v, want %v", i, s.ev.ID, s.ev.Action, s.ev.TimeNano-base, got, s.want)
		}
	}
}

func TestDiff(t *testing.T) {
	before := map[string]ContainerState{
		"run":    {State: "running", Name: "run"},
		"paused": {State: "paused", Name: "paused"},
		"gone":   {State: "running", Name: "gone"},
		"stops":  {State: "running", Name: "stops"},
		"same":   {State: "exited", Name: "same"},
	}
	after := map[string]ContainerState{
		"run":    {State: "paused", Name: "run"},
		"paused": {State: "running", Name: "paused"},
		"stops":  {State: "exited", Name: "stops"},
		"same":   {State: "exited", Name: "same"},
		"new":    {State: "running", Name: "new", Labels: map[string]string{"app": "web"}},
	}
	var got []string
	for _, ev := range diff(before, after, 42) {
		if ev.Attributes["reconciled"] != "true" || ev.TimeNano != 42 || ev.Attributes["name"] != ev.Name {
			t.Errorf("event %+v: not marked reconciled at 42 with its name", ev)
		}
		got = append(got, ev.ID+" "+ev.Action)
	}
	want := []string{"gone die", "gone destroy", "new create", "new start", "paused unpause", "run pause", "stops die"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("diff (-want +got):\n%s", d)
	}
}

func TestMatch(t *testing.T) {
	ev := Event{Type: "container", Action: "health_status: healthy", ID: "3f2a1c4d", Name: "web", Image: "ctrsh-test/busybox",
		Attributes: map[string]string{"name": "web", "app": "shop", "reconciled": "true"}}
	cases := []struct {
		f    map[string][]string
		want bool
	}{
		{nil, true},
		{map[string][]string{"type": {"image", "container"}}, true},
		{map[string][]string{"type": {"image"}}, false},
		{map[string][]string{"event": {"health_status"}}, true},
		{map[string][]string{"event": {"health"}}, false},
		{map[string][]string{"container": {"web"}}, true},
		{map[string][]string{"container": {"3f2a"}}, true},
		{map[string][]string{"container": {"we"}}, false},
		{map[string][]string{"image": {"ctrsh-test/busybox:latest"}}, true},
		{map[string][]string{"label": {"app"}}, true},
		{map[string][]string{"label": {"app=shop"}}, true},
		{map[string][]string{"label": {"app=db", "other"}}, false},
		{map[string][]string{"label": {"app=shop"}, "container": {"db"}}, false},
		{map[string][]string{"network": {"bridge"}}, false},
	}
	for i, c := range cases {
		if got := match(c.f, ev); got != c.want {
			t.Errorf("case %d %v: match = %v, want %v", i, c.f, got, c.want)
		}
	}
}
