// Package events is the events Lua module: the engine's event stream,
// made resumable. The engine keeps few events and ends the stream when it
// restarts; a Subscription reconnects with backoff, resumes from the last
// event's time, drops what it already delivered, and after a reconnect
// compares the container list with what it was to deliver what changed
// while the engine was away (attributes.reconciled = "true").
package events

import (
	"context"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// Event is one engine event (or one ctrsh made: reconciled changes, and
// the overflow notice of type "ctrsh").
type Event struct {
	Type, Action string
	ID           string
	Name, Image  string
	TimeNano     int64
	Attributes   map[string]string
}

// Options select the events of a Subscription: docker events semantics
// (values of one key: OR; different keys: AND).
type Options struct {
	Filters      map[string][]string
	Since, Until time.Time // zero: now / never
	// EngineStatus delivers {type="ctrsh", action="engine_down"} when the
	// stream breaks (attributes.error says how) and {type="ctrsh",
	// action="engine_up"} when it is back, each at the time it was seen.
	EngineStatus bool
}

// Backoff bounds the wait between reconnection attempts. The maximum is
// short: an engine that restarts again before the stream is back forgets
// the events in between (only the container list comparison recovers
// them), and a failed attempt is one dial.
var (
	BackoffMin = 50 * time.Millisecond
	BackoffMax = 250 * time.Millisecond
	// Settle is how long after a reconnect the engine's backlog may take to
	// arrive before the container list is compared.
	Settle = 300 * time.Millisecond
	// QueueSize is the number of events waiting for Lua before the stream
	// reports an overflow.
	QueueSize = 4096
)

// Source is an event stream that a Subscription makes resumable: the
// Docker Engine's (EngineSource), a CRI runtime's (the cri module's).
type Source interface {
	// Connect opens the stream of the events after since (Unix
	// nanoseconds; 0: from now), or fails when the source does not answer.
	// A source without history starts from now whatever since says (the
	// container list comparison after a reconnect covers the gap). The
	// stream is registered when Connect returns.
	Connect(ctx context.Context, since int64) (*Conn, error)
	// List reads every container's state (for the comparison after a
	// reconnect).
	List(ctx context.Context) (map[string]ContainerState, error)
}

// Conn is one connection of a Source: its events until Err delivers (nil
// or io.EOF: the stream ended; at Options.Until when the source honours
// it). Close ends it.
type Conn struct {
	Events <-chan Event
	Err    <-chan error
	Close  func()
}

// Subscription is an open, resumable event stream.
type Subscription struct {
	src  Source
	o    Options
	ctx  context.Context
	stop context.CancelFunc

	reconcile bool // containers are among the types: track their states

	conn *Conn // the current connection; nil while reconnecting

	dedup dedup
	known map[string]ContainerState // id → state, as last seen
}

// ContainerState is a container as the comparison after a reconnect sees
// it.
type ContainerState struct {
	State, Name, Image string
	Labels             map[string]string
}

// Subscribe opens the engine's stream (the engine registers the subscriber
// before Subscribe returns, so nothing that happens after is missed), then
// reads the container list it will compare after reconnects.
func Subscribe(ctx context.Context, e *docker.Engine, o Options) (*Subscription, error) {
	return SubscribeTo(ctx, EngineSource(e, o), o)
}

// SubscribeTo is Subscribe to any source: o.Filters are applied here to
// every event, whatever the source applied itself.
func SubscribeTo(ctx context.Context, src Source, o Options) (*Subscription, error) {
	ctx, stop := context.WithCancel(ctx)
	s := &Subscription{src: src, o: o, ctx: ctx, stop: stop}
	types := o.Filters["type"]
	s.reconcile = len(types) == 0 || contains(types, "container")
	var since int64
	if !o.Since.IsZero() {
		since = o.Since.UnixNano()
	}
	if err := s.connect(since); err != nil {
		stop()
		return nil, err
	}
	if s.reconcile {
		known, err := s.src.List(s.ctx)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.known = known
	}
	return s, nil
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.stop()
}

func (s *Subscription) connect(since int64) error {
	conn, err := s.src.Connect(s.ctx, since)
	if err != nil {
		return err
	}
	s.conn = conn
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Sender is where Run delivers events: TrySend never blocks (the network
// reader must not wait for Lua), Context ends the run.
type Sender interface {
	TrySend(Event) bool
	Context() context.Context
}

// Run reads the stream until until, ctx's end, or a failure to reconnect
// that ctx ended; it delivers through out, counting what did not fit and
// delivering a {type="ctrsh", action="overflow", attributes={dropped=N}}
// event as soon as there is room again.
func (s *Subscription) Run(out Sender) error {
	defer s.Close()
	defer func() {
		if s.conn != nil {
			s.conn.Close()
		}
	}()
	stopAfter := context.AfterFunc(out.Context(), s.stop)
	defer stopAfter()
	r := &runState{Subscription: s, out: out, backoff: BackoffMin}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var msgs <-chan Event
		var errs <-chan error
		if s.conn != nil {
			msgs, errs = s.conn.Events, s.conn.Err
		}
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-tick.C:
			r.flushOverflow()
		case <-r.settle:
			r.reconcileNow()
		case ev := <-msgs:
			r.event(ev)
		case err := <-errs:
			if end, err := r.lost(err); end {
				return err
			}
		case <-r.retry:
			r.reconnect()
		}
	}
}

// runState is the state of one Subscription.Run.
type runState struct {
	*Subscription
	out     Sender
	dropped int // events that did not fit since the last overflow notice

	pending   map[string]ContainerState // the list read after a reconnect, not compared yet
	pendingAt int64
	settle    <-chan time.Time // when to compare pending
	retry     <-chan time.Time // when to reconnect
	backoff   time.Duration
	down      bool // engine_down said, engine_up not yet
}

// deliver sends ev, after the overflow notice if events were dropped; what
// does not fit is counted.
func (r *runState) deliver(ev Event) {
	if r.dropped > 0 {
		if !r.out.TrySend(r.overflow()) {
			r.dropped++
			return
		}
		r.dropped = 0
	}
	if !r.out.TrySend(ev) {
		r.dropped++
	}
}

// flushOverflow sends the overflow notice if events were dropped and there
// is room now.
func (r *runState) flushOverflow() {
	if r.dropped > 0 && r.out.TrySend(r.overflow()) {
		r.dropped = 0
	}
}

func (r *runState) overflow() Event {
	return Event{Type: "ctrsh", Action: "overflow", TimeNano: time.Now().UnixNano(),
		Attributes: map[string]string{"dropped": strconv.Itoa(r.dropped)}}
}

// status delivers an engine_down or engine_up event if they were asked for.
func (r *runState) status(action string, attrs map[string]string) {
	if r.o.EngineStatus {
		r.deliver(Event{Type: "ctrsh", Action: action, TimeNano: time.Now().UnixNano(), Attributes: attrs})
	}
}

// reconcileNow delivers the changes between the known list and the one read
// at the last reconnect, which becomes the known list.
func (r *runState) reconcileNow() {
	for _, ev := range diff(r.known, r.pending, r.pendingAt) {
		if match(r.o.Filters, ev) {
			r.deliver(ev)
		}
	}
	r.known, r.pending, r.settle = r.pending, nil, nil
}

// event delivers one event of the stream, unless it is a repeat of one
// delivered before a reconnect.
func (r *runState) event(ev Event) {
	if r.pending != nil && ev.TimeNano > r.pendingAt {
		r.reconcileNow()
	}
	if !r.dedup.add(ev) {
		return
	}
	if r.reconcile && ev.Type == "container" {
		apply(r.known, ev)
		if r.pending != nil {
			// The list read at reconnect already reflects it.
			apply(r.pending, ev)
		}
	}
	if match(r.o.Filters, ev) {
		r.deliver(ev)
	}
}

// lost handles the end of the stream with err: the run ends (end true, with
// the error to return) at the end of its context or at until; otherwise
// engine_down is said once and a reconnect is scheduled (an engine restart
// or a reset connection).
func (r *runState) lost(err error) (end bool, _ error) {
	r.conn.Close()
	r.conn = nil
	if r.ctx.Err() != nil {
		return true, r.ctx.Err()
	}
	if !r.o.Until.IsZero() && !time.Now().Before(r.o.Until) {
		return true, nil // the engine ended the stream at until
	}
	if !r.down {
		r.down = true
		if err == nil {
			err = io.EOF
		}
		r.status("engine_down", map[string]string{"error": err.Error()})
	}
	r.retry = time.After(r.backoff)
	return false, nil
}

// reconnect resumes the stream (backing off while it fails), says
// engine_up, and reads the container list to compare once the resumed
// stream has settled.
func (r *runState) reconnect() {
	r.retry = nil
	if err := r.resume(); err != nil {
		r.backoff = min(r.backoff*2, BackoffMax)
		r.retry = time.After(r.backoff)
		return
	}
	r.backoff = BackoffMin
	if r.down {
		r.down = false
		r.status("engine_up", map[string]string{})
	}
	if !r.reconcile {
		return
	}
	list, err := r.src.List(r.ctx)
	if err != nil {
		return
	}
	if r.pending != nil {
		r.reconcileNow()
	}
	r.pending, r.pendingAt = list, time.Now().UnixNano()
	r.settle = time.After(Settle)
}

// resume reconnects from the last delivered event's time (less a second of
// slack; dedup drops what was delivered already).
func (s *Subscription) resume() error {
	var since int64
	switch {
	case s.dedup.last != 0:
		since = s.dedup.last - int64(time.Second)
	case !s.o.Since.IsZero():
		since = s.o.Since.UnixNano()
	}
	return s.connect(since)
}

// dedup remembers the events of the last second before the newest one, to
// drop those a resumed stream repeats.
type dedup struct {
	last int64 // TimeNano of the newest event delivered
	seen map[dedupKey]struct{}
}

type dedupKey struct {
	nano       int64
	id, action string
	typ        string
}

// add reports whether ev is new, and remembers it.
func (d *dedup) add(ev Event) bool {
	if d.seen == nil {
		d.seen = map[dedupKey]struct{}{}
	}
	k := dedupKey{ev.TimeNano, ev.ID, ev.Action, ev.Type}
	if _, ok := d.seen[k]; ok {
		return false
	}
	if d.last != 0 && ev.TimeNano < d.last-int64(time.Second) {
		return false // older than anything a resume asks for: seen before
	}
	d.seen[k] = struct{}{}
	if ev.TimeNano > d.last {
		d.last = ev.TimeNano
		for k := range d.seen {
			if k.nano < d.last-int64(time.Second) {
				delete(d.seen, k)
			}
		}
	}
	return true
}

// apply updates container states with a container event.
func apply(known map[string]ContainerState, ev Event) {
	st, ok := known[ev.ID]
	if !ok {
		st = ContainerState{Name: ev.Name, Image: ev.Image, Labels: labelsOf(ev.Attributes)}
	}
	switch ev.Action {
	case "create":
		st.State = "created"
	case "start", "unpause", "restart":
		st.State = "running"
	case "pause":
		st.State = "paused"
	case "die":
		st.State = "exited"
	case "destroy":
		delete(known, ev.ID)
		return
	default:
		if !ok {
			return // an event of a container never seen: nothing to track
		}
	}
	if ev.Name != "" {
		st.Name = ev.Name
	}
	known[ev.ID] = st
}

// labelsOf is the attributes of a container event that are not the
// engine's own (the container's labels).
func labelsOf(attrs map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range attrs {
		switch k {
		case "name", "image", "exitCode", "signal", "execID", "reconciled":
			continue
		}
		out[k] = v
	}
	return out
}

// diff returns the events that take the container states before to after:
// create, start, pause, unpause, die, destroy, marked reconciled.
func diff(before, after map[string]ContainerState, at int64) []Event {
	var out []Event
	mk := func(id, action string, st ContainerState) Event {
		attrs := map[string]string{}
		for k, v := range st.Labels {
			attrs[k] = v
		}
		attrs["name"], attrs["image"], attrs["reconciled"] = st.Name, st.Image, "true"
		return Event{Type: "container", Action: action, ID: id, Name: st.Name, Image: st.Image, TimeNano: at, Attributes: attrs}
	}
	ids := make([]string, 0, len(after)+len(before))
	for id := range after {
		ids = append(ids, id)
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		b, had := before[id]
		a, has := after[id]
		switch {
		case !has:
			if b.State == "running" || b.State == "paused" {
				out = append(out, mk(id, "die", b))
			}
			out = append(out, mk(id, "destroy", b))
		case !had:
			out = append(out, mk(id, "create", a))
			switch a.State {
			case "running":
				out = append(out, mk(id, "start", a))
			case "paused":
				out = append(out, mk(id, "start", a), mk(id, "pause", a))
			case "exited", "dead":
				out = append(out, mk(id, "start", a), mk(id, "die", a))
			}
		case b.State != a.State:
			out = append(out, transition(b.State, a.State, func(action string) Event { return mk(id, action, a) })...)
		}
	}
	return out
}

// transition is the events between two states of one container.
func transition(from, to string, mk func(string) Event) []Event {
	up := func(s string) bool { return s == "running" || s == "paused" || s == "restarting" }
	var out []Event
	switch {
	case from == "paused" && to == "running":
		out = append(out, mk("unpause"))
	case from == "running" && to == "paused":
		out = append(out, mk("pause"))
	case up(from) && !up(to):
		out = append(out, mk("die"))
	case !up(from) && up(to):
		out = append(out, mk("start"))
		if to == "paused" {
			out = append(out, mk("pause"))
		}
	}
	return out
}

// match applies docker's event filters to ev.
func match(filters map[string][]string, ev Event) bool {
	if ev.Type == "ctrsh" {
		return true
	}
	for k, vs := range filters {
		if len(vs) == 0 {
			continue
		}
		ok := false
		switch k {
		case "type":
			ok = contains(vs, ev.Type)
		case "event":
			fuzzy := false
			for _, v := range vs {
				if v == "health_status" || v == "exec_create" || v == "exec_start" {
					fuzzy = true
				}
			}
			for _, v := range vs {
				if v == ev.Action || (fuzzy && strings.HasPrefix(ev.Action, v)) {
					ok = true
				}
			}
		case "container":
			if ev.Type != "container" {
				return false
			}
			for _, v := range vs {
				if v == ev.Name || (v != "" && strings.HasPrefix(ev.ID, v)) {
					ok = true
				}
			}
		case "image":
			img := ev.Image
			if ev.Type == "image" {
				img = ev.ID
			}
			for _, v := range vs {
				if v == img || strings.TrimSuffix(v, ":latest") == strings.TrimSuffix(img, ":latest") {
					ok = true
				}
			}
		case "label":
			for _, v := range vs {
				key, val, hasVal := strings.Cut(v, "=")
				got, present := ev.Attributes[key]
				if present && (!hasVal || got == val) {
					ok = true
				}
			}
		case "pod", "namespace":
			// A Kubernetes pod's name or namespace, from the kubelet's labels.
			key := docker.LabelPodName
			if k == "namespace" {
				key = docker.LabelPodNamespace
			}
			ok = ev.Attributes[key] != "" && contains(vs, ev.Attributes[key])
		case "scope":
			ok = true
		default:
			// Filters ctrsh cannot check itself (network, volume, ...) were
			// applied by the engine; a reconciled container event is not one
			// of theirs.
			ok = ev.Attributes["reconciled"] != "true"
		}
		if !ok {
			return false
		}
	}
	return true
}
