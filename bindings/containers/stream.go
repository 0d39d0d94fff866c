package containers

import (
	"context"
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// criActions are the actions a CRI runtime's stream has.
var criActions = []string{"create", "start", "oom", "die", "destroy"}

// Subscribe opens the event stream of every runtime that has one and may
// have events o selects: each is the events module's resumable
// Subscription. o's runtime filter picks the runtimes; the others' errors
// are returned.
func Subscribe(ctx context.Context, rts []*Runtime, o events.Options) ([]*Subscription, error) {
	var subs []*Subscription
	var errs []error
	f := map[string][]string{}
	for k, vs := range o.Filters {
		if k != "runtime" {
			f[k] = vs
		}
	}
	so := o
	so.Filters = f
	for _, rt := range rts {
		if vs := o.Filters["runtime"]; len(vs) > 0 && !containsRuntime(vs, rt) {
			continue
		}
		if rt.Kind == "cri" && len(f["event"]) > 0 && !anyOf(f["event"], criActions) {
			continue // nothing a CRI runtime reports
		}
		if rt.Err != nil {
			errs = append(errs, rt.Err)
			continue
		}
		if rt.events == nil {
			errs = append(errs, fmt.Errorf("%s events: runtime not answering (its containers were read from disk)", rt.Name))
			continue
		}
		sub, err := events.SubscribeTo(ctx, rt.events(so), so)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		subs = append(subs, &Subscription{Subscription: sub, Runtime: rt.Name})
	}
	if len(subs) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return subs, nil
}

func anyOf(vs, set []string) bool {
	for _, v := range vs {
		if contains(set, v) {
			return true
		}
	}
	return false
}

// Subscription is one runtime's stream.
type Subscription struct {
	*events.Subscription
	Runtime string
}

// Run runs every subscription into out until all end (until, ctx) and
// returns the first error. A container event without a runtime attribute
// (the engine's) gets its runtime's.
func Run(subs []*Subscription, out events.Sender) error {
	errs := make(chan error, len(subs))
	for _, s := range subs {
		go func() { errs <- s.Run(tagged{out, s.Runtime}) }()
	}
	var first error
	for range subs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

type tagged struct {
	events.Sender
	runtime string
}

func (t tagged) TrySend(ev events.Event) bool {
	if ev.Type == "container" && ev.Attributes != nil && ev.Attributes["runtime"] == "" {
		ev.Attributes["runtime"] = t.runtime
	}
	return t.Sender.TrySend(ev)
}

func luaEvents(L *lua.LState) int {
	o := events.CheckOptions(L, 1)
	subs, err := Subscribe(luax.Ctx(L), Runtimes(L), o)
	if err != nil {
		return luax.Fail(L, err)
	}
	if len(subs) == 0 {
		return luax.Failf(L, "containers events: no container runtime found on this host")
	}
	s := luax.NewStream(L, events.QueueSize, func(sink *luax.Sink[events.Event]) error {
		return Run(subs, sink)
	}, events.Table)
	return s.Push(L)
}

// Stats reads the stats of the running containers of every runtime that
// match o (one interval for all, as docker.stats).
func Stats(ctx context.Context, root string, rts []*Runtime, o ListOptions, interval time.Duration) ([]*docker.Stats, []*docker.Container, []error) {
	o.All = false
	list, errs := List(ctx, rts, o)
	targets := make([]docker.StatTarget, 0, len(list))
	for _, c := range list {
		targets = append(targets, docker.StatTarget{ID: c.ID, Name: c.Name, PID: c.PID})
	}
	stats, serrs := docker.ReadStats(ctx, root, targets, interval)
	var rows []*docker.Stats
	var of []*docker.Container
	for i, s := range stats {
		// A container that stopped during the interval is left out.
		if serrs[i] == nil && s != nil {
			rows = append(rows, s)
			of = append(of, list[i])
		}
	}
	return rows, of, errs
}

func luaStats(L *lua.LState) int {
	o := luax.CheckOptions(L, 1, "interval", "filters")
	interval, _ := o.Duration("interval")
	lo := ListOptions{Filters: checkFilters(L, o)}
	rts := Runtimes(L)
	rows, of, errs := Stats(luax.Ctx(L), luax.HostRoot(L), rts, lo, interval)
	Announce(L, rts)
	luax.CheckCancel(L)
	if len(rows) == 0 && len(errs) > 0 && len(errs) == countAsked(rts, lo) {
		return luax.Fail(L, errors.Join(errs...))
	}
	t := L.CreateTable(len(rows), 0)
	for i, s := range rows {
		row := docker.StatsTable(L, s)
		row.RawSetString("runtime", lua.LString(of[i].Runtime))
		if p := of[i].PodOf(); p != nil {
			row.RawSetString("pod", docker.PodTable(L, p))
		}
		t.Append(row)
	}
	L.Push(t)
	return pushWarning(L, errs, 1)
}
