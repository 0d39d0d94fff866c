package cri_test

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/events"
)

// fakeRuntime is a CRI runtime that streams its events (GetContainerEvents),
// which the containerd of the fixture (1.6) does not: it serves only what
// the event stream needs (as crictl's fakes do, it embeds the interface).
type fakeRuntime struct {
	runtimeapi.UnimplementedRuntimeServiceServer

	mu         sync.Mutex
	containers map[string]*runtimeapi.Container
	streams    chan chan *runtimeapi.ContainerEventResponse // each new stream's feed
}

func (f *fakeRuntime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: "cri-o", RuntimeVersion: "1.30.0", RuntimeApiVersion: "v1"}, nil
}

func (f *fakeRuntime) ListContainers(context.Context, *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := &runtimeapi.ListContainersResponse{}
	for _, c := range f.containers {
		res.Containers = append(res.Containers, c)
	}
	return res, nil
}

func (f *fakeRuntime) GetContainerEvents(_ *runtimeapi.GetEventsRequest, s grpc.ServerStreamingServer[runtimeapi.ContainerEventResponse]) error {
	feed := make(chan *runtimeapi.ContainerEventResponse)
	select {
	case f.streams <- feed:
	case <-s.Context().Done():
		return nil
	}
	for {
		select {
		case ev, ok := <-feed:
			if !ok {
				return status.Error(codes.Unavailable, "runtime restarting")
			}
			if err := s.Send(ev); err != nil {
				return err
			}
		case <-s.Context().Done():
			return nil
		}
	}
}

func (f *fakeRuntime) set(id, name string, state runtimeapi.ContainerState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.containers[id] = &runtimeapi.Container{
		Id: id, PodSandboxId: "pod1", Metadata: &runtimeapi.ContainerMetadata{Name: name}, State: state,
		Image:  &runtimeapi.ImageSpec{Image: "docker.io/library/nginx:1"},
		Labels: map[string]string{"io.kubernetes.container.name": name, "io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "default"},
	}
}

func serveFake(t *testing.T) (*fakeRuntime, string) {
	t.Helper()
	f := &fakeRuntime{containers: map[string]*runtimeapi.Container{}, streams: make(chan chan *runtimeapi.ContainerEventResponse)}
	sock := filepath.Join(t.TempDir(), "crio.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return f, "unix://" + sock
}

// sink collects what a Subscription delivers.
type sink struct {
	ctx context.Context
	ch  chan events.Event
}

func (s *sink) TrySend(ev events.Event) bool {
	select {
	case s.ch <- ev:
		return true
	default:
		return false
	}
}

func (s *sink) Context() context.Context { return s.ctx }

func statusOf(id, name string, state runtimeapi.ContainerState, code int32, reason string) *runtimeapi.ContainerStatus {
	return &runtimeapi.ContainerStatus{
		Id: id, Metadata: &runtimeapi.ContainerMetadata{Name: name}, State: state, ExitCode: code, Reason: reason,
		Image:  &runtimeapi.ImageSpec{Image: "docker.io/library/nginx:1"},
		Labels: map[string]string{"io.kubernetes.container.name": name, "io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "default"},
	}
}

// A runtime that streams: its events as the engine's (create, start, oom
// before the death of an OOM-killed container, die with the exit code,
// destroy); after the stream breaks, a reconnection and the comparison of
// the container list deliver what changed meanwhile.
func TestEventsStreamed(t *testing.T) {
	f, ep := serveFake(t)
	defer func(d time.Duration) { cri.StreamProbe = d }(cri.StreamProbe)
	cri.StreamProbe = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cri.Dial(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f.set("aaa", "app", runtimeapi.ContainerState_CONTAINER_RUNNING)
	f.set("bbb", "side", runtimeapi.ContainerState_CONTAINER_RUNNING)
	o := events.Options{}
	sub, err := events.SubscribeTo(ctx, c.EventSource(o), o)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Streams() {
		t.Fatal("a runtime that serves GetContainerEvents is polled")
	}
	out := &sink{ctx: ctx, ch: make(chan events.Event, 100)}
	done := make(chan error, 1)
	go func() { done <- sub.Run(out) }()
	feed := <-f.streams
	at := time.Now().UnixNano()
	send := func(id string, typ runtimeapi.ContainerEventType, st *runtimeapi.ContainerStatus) {
		feed <- &runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: typ, CreatedAt: at,
			PodSandboxStatus:   &runtimeapi.PodSandboxStatus{Id: "pod1", Metadata: &runtimeapi.PodSandboxMetadata{Name: "web-1", Namespace: "default", Uid: "u1"}},
			ContainersStatuses: []*runtimeapi.ContainerStatus{st}}
		at++
	}
	next := func() events.Event {
		select {
		case ev := <-out.ch:
			return ev
		case err := <-done:
			t.Fatalf("the stream ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no event in 10 s")
		}
		return events.Event{}
	}
	send("ccc", runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT, statusOf("ccc", "job", runtimeapi.ContainerState_CONTAINER_CREATED, 0, ""))
	send("ccc", runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT, statusOf("ccc", "job", runtimeapi.ContainerState_CONTAINER_RUNNING, 0, ""))
	send("ccc", runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, statusOf("ccc", "job", runtimeapi.ContainerState_CONTAINER_EXITED, 137, "OOMKilled"))
	send("ccc", runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT, statusOf("ccc", "job", runtimeapi.ContainerState_CONTAINER_EXITED, 137, "OOMKilled"))
	for _, want := range []string{"create", "start", "oom", "die", "destroy"} {
		ev := next()
		if ev.Action != want || ev.ID != "ccc" || ev.Name != "job" || ev.Image != "nginx:1" || ev.Attributes["runtime"] != "cri-o" ||
			ev.Attributes["io.kubernetes.pod.name"] != "web-1" || ev.Attributes["io.kubernetes.pod.uid"] != "u1" {
			t.Fatalf("event %+v, want %s of ccc (job, nginx:1, pod web-1, runtime cri-o)", ev, want)
		}
		if want == "die" && (ev.Attributes["exitCode"] != "137" || ev.Attributes["reason"] != "OOMKilled") {
			t.Errorf("die: %v, want exitCode 137, reason OOMKilled", ev.Attributes)
		}
	}

	// The runtime restarts: bbb dies and ddd starts while no stream is open.
	f.set("bbb", "side", runtimeapi.ContainerState_CONTAINER_EXITED)
	f.set("ddd", "new", runtimeapi.ContainerState_CONTAINER_RUNNING)
	close(feed)
	got := map[string]bool{}
	for len(got) < 3 {
		ev := next()
		if ev.Attributes["reconciled"] != "true" {
			t.Errorf("after the reconnection: %+v not marked reconciled", ev)
		}
		got[ev.ID+" "+ev.Action] = true
	}
	for _, want := range []string{"bbb die", "ddd create", "ddd start"} {
		if !got[want] {
			t.Errorf("reconciled events %v: no %s", got, want)
		}
	}
	// And the new stream goes on.
	feed = <-f.streams
	send("ddd", runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, statusOf("ddd", "new", runtimeapi.ContainerState_CONTAINER_EXITED, 2, "Error"))
	if ev := next(); ev.ID != "ddd" || ev.Action != "die" || ev.Attributes["exitCode"] != "2" {
		t.Errorf("after the reconnection: %+v, want ddd's death with exit code 2", ev)
	}
	cancel()
	<-done
}
