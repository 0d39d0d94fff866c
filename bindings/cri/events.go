package cri

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/ctrsh/ctrsh/bindings/events"
)

// A CRI runtime's events, made resumable by the events module's
// Subscription (reconnects, the container list comparison, filters).
//
// Runtimes that serve GetContainerEvents (containerd 1.7, CRI-O 1.26 and
// later; the kubelet's "evented PLEG") stream them. Older ones answer it
// Unimplemented (containerd 1.6, Debian 12's): their containers' states are
// then polled, as the kubelet's PLEG does, and each change becomes the
// event it stands for, at the time the runtime recorded (created_at,
// started_at, finished_at), with the exit code of a stopped container.
// Either way, a connection with a since reads first what the runtime's
// statuses still tell of that time (containers not removed yet): the CRI
// keeps no event history.

// PollInterval is how often the containers are listed when the runtime
// does not stream events.
var PollInterval = 250 * time.Millisecond

// StreamProbe is how long a first GetContainerEvents is given to be
// refused before the runtime is taken to serve it.
var StreamProbe = 300 * time.Millisecond

// eventMode remembers how a runtime gives events.
type eventMode struct {
	mu     sync.Mutex
	known  bool
	stream bool
}

func (m *eventMode) get() (known, stream bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.known, m.stream
}

func (m *eventMode) set(stream bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.known, m.stream = true, stream
}

// Streams reports whether the runtime streams its events (false: they are
// polled, or it was not asked yet).
func (c *Client) Streams() bool {
	_, stream := c.ev.get()
	return stream
}

// source is the runtime's event stream as an events.Source.
type source struct {
	c *Client
	o events.Options
}

// EventSource is the runtime's event stream for events.SubscribeTo; o's
// Until ends each connection.
func (c *Client) EventSource(o events.Options) events.Source {
	return &source{c: c, o: o}
}

// List is the containers' states, for the comparison after a reconnect.
func (s *source) List(ctx context.Context) (map[string]events.ContainerState, error) {
	items, err := s.c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("cri events: listing containers: %w", err)
	}
	out := make(map[string]events.ContainerState, len(items))
	for _, k := range items {
		out[k.GetId()] = events.ContainerState{
			State:  stateName(k.GetState()),
			Name:   containerName(k.GetLabels(), k.GetMetadata()),
			Image:  familiarImage(k.GetImage().GetImage()),
			Labels: k.GetLabels(),
		}
	}
	return out, nil
}

// Connect opens a connection: the backlog since since, then the stream (or
// the polls).
func (s *source) Connect(ctx context.Context, since int64) (*events.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan events.Event)
	errs := make(chan error, 1)
	conn := &events.Conn{Events: out, Err: errs, Close: cancel}
	fail := func(err error) (*events.Conn, error) {
		cancel()
		return nil, err
	}
	var until <-chan time.Time
	if !s.o.Until.IsZero() {
		t := time.NewTimer(time.Until(s.o.Until))
		until = t.C
		context.AfterFunc(ctx, func() { t.Stop() })
	}
	known, stream := s.c.ev.get()
	var rs runtimeapi.RuntimeService_GetContainerEventsClient
	var first *runtimeapi.ContainerEventResponse
	if !known || stream {
		var err error
		rs, first, err = s.openStream(ctx, known)
		if err != nil {
			return fail(err)
		}
	}
	// The states now: the poller's baseline, and the backlog's source.
	var snap snapshot
	var backlog []events.Event
	if rs == nil || since != 0 {
		var err error
		if snap, err = s.snapshot(ctx, since != 0); err != nil {
			return fail(err)
		}
	}
	if since != 0 {
		backlog = snap.backlog(s.c.Runtime, since, s.o.Until)
	}
	send := func(ev events.Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		for _, ev := range backlog {
			if !send(ev) {
				return
			}
		}
		var err error
		if rs != nil {
			err = s.pump(ctx, rs, first, until, send)
		} else {
			err = s.poll(ctx, snap, until, send)
		}
		if ctx.Err() == nil {
			errs <- err
		}
	}()
	return conn, nil
}

// openStream starts GetContainerEvents. The first time, it waits
// StreamProbe for a refusal (Unimplemented: the runtime is then polled,
// rs is nil) or a first event.
func (s *source) openStream(ctx context.Context, known bool) (rs runtimeapi.RuntimeService_GetContainerEventsClient, first *runtimeapi.ContainerEventResponse, err error) {
	// Whether the runtime answers at all is asked with a deadline: the
	// stream has none.
	vctx, cancel := context.WithTimeout(ctx, DialTimeout)
	_, err = s.c.rt.Version(vctx, &runtimeapi.VersionRequest{Version: "v1"})
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("cri events: %w", s.c.err(ctx, err))
	}
	rs, err = s.c.rt.GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
	if err != nil {
		if status.Code(err) == codes.Unimplemented {
			s.c.ev.set(false)
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("cri events: %w", s.c.err(ctx, err))
	}
	if known {
		return rs, nil, nil
	}
	got := make(chan recvResult, 1)
	go func() {
		ev, err := rs.Recv()
		got <- recvResult{ev, err}
	}()
	select {
	case r := <-got:
		if status.Code(r.err) == codes.Unimplemented {
			s.c.ev.set(false)
			return nil, nil, nil
		}
		if r.err != nil {
			return nil, nil, fmt.Errorf("cri events: %w", s.c.err(ctx, r.err))
		}
		s.c.ev.set(true)
		return rs, r.ev, nil
	case <-time.After(StreamProbe):
		s.c.ev.set(true)
		// The first Recv is still waiting: hand its result over.
		return &probedStream{RuntimeService_GetContainerEventsClient: rs, first: got}, nil, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// recvResult is what one Recv gave.
type recvResult struct {
	ev  *runtimeapi.ContainerEventResponse
	err error
}

// probedStream is a stream whose first Recv was already started.
type probedStream struct {
	runtimeapi.RuntimeService_GetContainerEventsClient
	first chan recvResult
}

func (p *probedStream) Recv() (*runtimeapi.ContainerEventResponse, error) {
	if p.first != nil {
		r := <-p.first
		p.first = nil
		return r.ev, r.err
	}
	return p.RuntimeService_GetContainerEventsClient.Recv()
}

// pump delivers the stream's events until it breaks (its error), until, or
// ctx's end.
func (s *source) pump(ctx context.Context, rs runtimeapi.RuntimeService_GetContainerEventsClient, first *runtimeapi.ContainerEventResponse, until <-chan time.Time, send func(events.Event) bool) error {
	recv := make(chan recvResult)
	go func() {
		for {
			ev, err := rs.Recv()
			select {
			case recv <- recvResult{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	if first != nil {
		for _, ev := range withOOM(fromResponse(s.c.Runtime, first)) {
			if !send(ev) {
				return ctx.Err()
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-until:
			return io.EOF
		case r := <-recv:
			if r.err != nil {
				return fmt.Errorf("cri events: %w", s.c.err(ctx, r.err))
			}
			for _, ev := range withOOM(fromResponse(s.c.Runtime, r.ev)) {
				if !send(ev) {
					return ctx.Err()
				}
			}
		}
	}
}

// withOOM is ev, preceded by an "oom" event when it is the death of a
// container the kernel OOM-killed (reason OOMKilled), as the Docker Engine
// reports one.
func withOOM(ev events.Event, ok bool) []events.Event {
	if !ok {
		return nil
	}
	if ev.Action == "die" && ev.Attributes["reason"] == "OOMKilled" {
		oom := ev
		oom.Action = "oom"
		oom.Attributes = map[string]string{}
		for k, v := range ev.Attributes {
			if k != "exitCode" && k != "reason" {
				oom.Attributes[k] = v
			}
		}
		return []events.Event{oom, ev}
	}
	return []events.Event{ev}
}

// eventAction is the docker action of a CRI event type.
var eventAction = map[runtimeapi.ContainerEventType]string{
	runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT: "create",
	runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT: "start",
	runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT: "die",
	runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT: "destroy",
}

// fromResponse is one streamed event as ctrsh's: a container's, or a pod
// sandbox's (type "pod") when the id is its sandbox's.
func fromResponse(runtime string, r *runtimeapi.ContainerEventResponse) (events.Event, bool) {
	action, ok := eventAction[r.GetContainerEventType()]
	if !ok || r.GetContainerId() == "" {
		return events.Event{}, false
	}
	ev := events.Event{Type: "container", Action: action, ID: r.GetContainerId(), TimeNano: r.GetCreatedAt(), Attributes: map[string]string{}}
	if ev.TimeNano == 0 {
		ev.TimeNano = time.Now().UnixNano()
	}
	var st *runtimeapi.ContainerStatus
	for _, cs := range r.GetContainersStatuses() {
		if cs.GetId() == ev.ID {
			st = cs
		}
	}
	sb := r.GetPodSandboxStatus()
	switch {
	case st != nil:
		setAttributes(&ev, runtime, st.GetLabels(), containerName(st.GetLabels(), st.GetMetadata()), familiarImage(st.GetImage().GetImage()))
		if action == "die" {
			ev.Attributes["exitCode"] = strconv.Itoa(int(st.GetExitCode()))
			if st.GetReason() != "" {
				ev.Attributes["reason"] = st.GetReason()
			}
		}
	case sb != nil && sb.GetId() == ev.ID:
		ev.Type = "pod"
		setAttributes(&ev, runtime, sb.GetLabels(), sb.GetMetadata().GetName(), "")
		ev.Attributes[podLabels[0]] = sb.GetMetadata().GetName()
		ev.Attributes[podLabels[1]] = sb.GetMetadata().GetNamespace()
		ev.Attributes[podLabels[2]] = sb.GetMetadata().GetUid()
	default:
		ev.Attributes["runtime"] = runtime
	}
	if md := sb.GetMetadata(); md != nil && ev.Type == "container" {
		for i, v := range []string{md.GetName(), md.GetNamespace(), md.GetUid()} {
			if ev.Attributes[podLabels[i]] == "" && v != "" {
				ev.Attributes[podLabels[i]] = v
			}
		}
	}
	return ev, true
}

var podLabels = [3]string{"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.pod.uid"}

// setAttributes gives ev its name and image, and the attributes docker's
// container events have: the labels, name, image; and the runtime.
func setAttributes(ev *events.Event, runtime string, labels map[string]string, name, image string) {
	for k, v := range labels {
		ev.Attributes[k] = v
	}
	ev.Name, ev.Image = name, image
	ev.Attributes["name"] = name
	if image != "" {
		ev.Attributes["image"] = image
	}
	ev.Attributes["runtime"] = runtime
}

// polled is a container as the poller last saw it.
type polled struct {
	state                      runtimeapi.ContainerState
	name, image                string
	labels                     map[string]string
	created, started, finished int64
	exitCode                   int32
	reason                     string
	haveTimes                  bool // started/finished read from its status
}

// snapshot is every container's state at one time.
type snapshot map[string]*polled

// snapshot lists the containers; with times it also reads the status of
// each that started (for its start and finish times and exit code).
func (s *source) snapshot(ctx context.Context, times bool) (snapshot, error) {
	items, err := s.c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("cri events: %w", err)
	}
	snap := snapshot{}
	for _, k := range items {
		p := &polled{
			state: k.GetState(), name: containerName(k.GetLabels(), k.GetMetadata()),
			image: familiarImage(k.GetImage().GetImage()), labels: k.GetLabels(), created: k.GetCreatedAt(),
		}
		if times && p.state != runtimeapi.ContainerState_CONTAINER_CREATED {
			s.times(ctx, k.GetId(), p)
		}
		snap[k.GetId()] = p
	}
	return snap, nil
}

// times reads p's start and finish times and exit code from its status.
func (s *source) times(ctx context.Context, id string, p *polled) {
	res, err := s.c.status(ctx, id, false)
	if err != nil {
		return
	}
	st := res.GetStatus()
	p.started, p.finished = st.GetStartedAt(), st.GetFinishedAt()
	// A process that exits at once may be stamped finished before the
	// runtime stamps it started: the events keep their order.
	if p.started > 0 && p.started < p.created {
		p.started = p.created
	}
	if p.finished > 0 && p.finished < p.started {
		p.finished = p.started
	}
	p.exitCode, p.reason = st.GetExitCode(), st.GetReason()
	p.state = st.GetState()
	p.haveTimes = true
}

// event is one event of container id.
func (p *polled) event(runtime, id, action string, at int64) events.Event {
	ev := events.Event{Type: "container", Action: action, ID: id, TimeNano: at, Attributes: map[string]string{}}
	setAttributes(&ev, runtime, p.labels, p.name, p.image)
	if action == "die" && p.haveTimes {
		ev.Attributes["exitCode"] = strconv.Itoa(int(p.exitCode))
		if p.reason != "" {
			ev.Attributes["reason"] = p.reason
		}
	}
	if ev.TimeNano <= 0 {
		ev.TimeNano = time.Now().UnixNano()
	}
	return ev
}

// backlog is what the statuses tell of the time from since to until (zero:
// now): creations, starts and stops, in time order.
func (snap snapshot) backlog(runtime string, since int64, until time.Time) []events.Event {
	var out []events.Event
	in := func(t int64) bool {
		return t > 0 && t >= since && (until.IsZero() || t <= until.UnixNano())
	}
	for id, p := range snap {
		if in(p.created) {
			out = append(out, p.event(runtime, id, "create", p.created))
		}
		if in(p.started) {
			out = append(out, p.event(runtime, id, "start", p.started))
		}
		if p.state == runtimeapi.ContainerState_CONTAINER_EXITED && in(p.finished) {
			out = append(out, withOOM(p.event(runtime, id, "die", p.finished), true)...)
		}
	}
	sortEvents(out)
	return out
}

func sortEvents(evs []events.Event) {
	rank := map[string]int{"create": 0, "start": 1, "oom": 2, "die": 3, "destroy": 4}
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].TimeNano != evs[j].TimeNano {
			return evs[i].TimeNano < evs[j].TimeNano
		}
		return rank[evs[i].Action] < rank[evs[j].Action]
	})
}

// poll lists the containers every PollInterval and delivers their changes
// as events, until the runtime stops answering (its error), until, or
// ctx's end.
func (s *source) poll(ctx context.Context, prev snapshot, until <-chan time.Time, send func(events.Event) bool) error {
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-until:
			return io.EOF
		case <-tick.C:
		}
		next, err := s.snapshot(ctx, false)
		if err != nil {
			return err
		}
		var out []events.Event
		now := time.Now().UnixNano()
		for id, p := range next {
			old, had := prev[id]
			if had && old.state == p.state {
				next[id] = old // keeps what was read of it
				continue
			}
			if p.state != runtimeapi.ContainerState_CONTAINER_CREATED {
				s.times(ctx, id, p)
			}
			if !had {
				out = append(out, p.event(s.c.Runtime, id, "create", p.created))
			}
			wasUp := had && old.state == runtimeapi.ContainerState_CONTAINER_RUNNING
			switch p.state {
			case runtimeapi.ContainerState_CONTAINER_RUNNING:
				out = append(out, p.event(s.c.Runtime, id, "start", orNow(p.started, now)))
			case runtimeapi.ContainerState_CONTAINER_EXITED:
				if !wasUp && p.started > 0 {
					out = append(out, p.event(s.c.Runtime, id, "start", p.started))
				}
				if wasUp || p.started > 0 {
					out = append(out, withOOM(p.event(s.c.Runtime, id, "die", orNow(p.finished, now)), true)...)
				}
			}
		}
		for id, old := range prev {
			if _, ok := next[id]; ok {
				continue
			}
			if old.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
				out = append(out, old.event(s.c.Runtime, id, "die", now))
			}
			out = append(out, old.event(s.c.Runtime, id, "destroy", now))
		}
		sortEvents(out)
		for _, ev := range out {
			if !send(ev) {
				return ctx.Err()
			}
		}
		prev = next
	}
}

func orNow(t, now int64) int64 {
	if t > 0 {
		return t
	}
	return now
}
