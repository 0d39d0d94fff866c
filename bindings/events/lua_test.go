package events_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
)

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua")
}

// Restarting the engine three times while a stream is open, with containers
// created and removed between restarts: every event the engine reports for
// the test's containers (asked afterwards with docker events --since
// --until, before each restart, since the engine forgets its events when it
// restarts) reaches the Lua consumer exactly once.
func TestStreamSurvivesEngineRestarts(t *testing.T) {
	testengine.Host(t)
	L := luatest.NewState(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	L.SetContext(ctx)
	label := fmt.Sprintf("ctrsh.case=restart-%d", time.Now().UnixNano())
	L.SetGlobal("LABEL", lua.LString(label))
	if err := L.DoString(`next_event, close_stream = assert(events.stream{filters = {label = LABEL}})`); err != nil {
		t.Fatal(err)
	}
	stamp := func() string { return fmt.Sprintf("%.9f", float64(time.Now().UnixNano())/1e9) }
	type key struct{ id, action, timeNano string }
	_ = key{}
	var want []key
	reference := func(since string) {
		until := stamp()
		out := testengine.MustDocker(t, "events", "--since", since, "--until", until,
			"--filter", "label="+label, "--format", "{{.Actor.ID}} {{.Action}} {{.TimeNano}}")
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 {
				want = append(want, key{f[0], f[1], f[2]})
			}
		}
	}
	var keep []string
	for round := 0; round < 3; round++ {
		since := stamp()
		id := testengine.Run(t, "--label", label, testengine.BusyboxImage, "sleep", "1000")
		gone := testengine.Run(t, "--label", label, testengine.BusyboxImage, "true")
		testengine.MustDocker(t, "wait", gone)
		testengine.MustDocker(t, "rm", "-f", gone)
		keep = append(keep, id)
		if round > 0 {
			testengine.MustDocker(t, "stop", "-t", "0", keep[round-1])
		}
		reference(since)
		testengine.Restart(t)
	}
	since := stamp()
	marker := testengine.Run(t, "--label", label, testengine.BusyboxImage, "true")
	testengine.MustDocker(t, "wait", marker)
	testengine.MustDocker(t, "rm", "-f", marker)
	reference(since)

	L.SetGlobal("MARKER", lua.LString(marker))
	if err := L.DoString(`
		got = {}
		for ev in next_event do
			got[#got + 1] = ev
			if ev.id == MARKER and ev.action == "destroy" then break end
		end
		close_stream()
	`); err != nil {
		t.Fatal(err)
	}
	type gotEvent struct {
		id, action string
		time       float64
	}
	var received []gotEvent
	got := L.GetGlobal("got").(*lua.LTable)
	for i := 1; i <= got.Len(); i++ {
		ev := got.RawGetInt(i).(*lua.LTable)
		attrs := ev.RawGetString("attributes").(*lua.LTable)
		g := gotEvent{ev.RawGetString("id").String(), ev.RawGetString("action").String(), float64(ev.RawGetString("time").(lua.LNumber))}
		if attrs.RawGetString("reconciled").String() == "true" {
			t.Logf("reconciled: %.12s %s", g.id, g.action)
			continue
		}
		received = append(received, g)
	}
	if len(want) == 0 {
		t.Fatal("the engine reported no events")
	}
	for _, w := range want {
		tn, _ := strconv.ParseInt(w.timeNano, 10, 64)
		wt := float64(tn) / 1e9
		n := 0
		for _, g := range received {
			// Lua numbers keep the time to a fraction of a microsecond.
			if g.id == w.id && g.action == w.action && math.Abs(g.time-wt) < 2e-6 {
				n++
			}
		}
		if n != 1 {
			t.Errorf("event %.12s %s at %s reached Lua %d times", w.id, w.action, w.timeNano, n)
		}
	}
	t.Logf("%d events reported by the engine, %d received", len(want), got.Len())
}
