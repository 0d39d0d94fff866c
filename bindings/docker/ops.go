package docker

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Ops is what a runtime other than the Docker Engine does for its
// containers (the cri module's containerd and CRI-O). A Container that has
// Ops goes through them wherever the engine would be asked; everything else
// is the same for every runtime, written once: the host-side methods (top,
// stats, ns, cgroup, enter, run, trace) need only the container's id and
// its init's PID (pinned and checked as Pin does), logs are read from the
// file LogPath names when LogDriver says how (logs module), and inspect is
// Raw, which Refresh keeps.
//
// Every method takes the caller's context first (a runtime that hangs must
// not hang the statement), and its errors name the container (Subject).
type Ops interface {
	// Refresh re-reads c's snapshot fields (Raw included) from the runtime.
	Refresh(ctx context.Context, c *Container) error
	// Exec runs argv in c and waits for it.
	Exec(ctx context.Context, c *Container, argv []string, o ExecOptions) (*ExecResult, error)
	// Lifecycle starts, stops, restarts, pauses, unpauses or kills c; a
	// runtime without the action returns an error wrapping
	// errors.ErrUnsupported that says so.
	Lifecycle(ctx context.Context, c *Container, a Action) error
	// Wait waits until c stops and returns its exit code.
	Wait(ctx context.Context, c *Container) (int, error)
}

// Action is one lifecycle action of Ops.Lifecycle.
type Action struct {
	Name    string         // start, stop, restart, pause, unpause, kill
	Timeout *time.Duration // stop, restart: SIGKILL after it (nil: the runtime's default)
	Signal  string         // kill: "KILL", "SIGTERM", "9" ("" is SIGKILL)
}

// EventOps is implemented by Ops whose runtime has an event stream of its
// own: c:events pushes it (the events module serves the engine's).
type EventOps interface {
	Events(L *lua.LState, c *Container, n int) int
}

// Pod is the Kubernetes pod of a container, where known.
type Pod struct {
	Name, Namespace, UID string
	ID                   string // the pod sandbox's id ("" when not known)
}

// String is "namespace/name".
func (p *Pod) String() string { return p.Namespace + "/" + p.Name }

// The labels the kubelet puts on every container of a pod (dockershim and
// cri-dockerd containers carry them too).
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
)

// PodOf is c's pod: the one its runtime gave, else the one its kubelet
// labels name, else nil.
func (c *Container) PodOf() *Pod {
	if c.Pod != nil {
		return c.Pod
	}
	if n := c.Labels[LabelPodName]; n != "" {
		return &Pod{Name: n, Namespace: c.Labels[LabelPodNamespace], UID: c.Labels[LabelPodUID]}
	}
	return nil
}

// NewContainer returns a Container of a runtime other than the engine,
// which ops serve. The caller fills in the snapshot fields.
func NewContainer(ops Ops) *Container { return &Container{ops: ops} }

// HasOps reports whether c is served by Ops rather than by the engine.
func (c *Container) HasOps() bool { return c.ops != nil }

// OpsOf is the Ops that serve c (nil for the engine's containers).
func OpsOf(c *Container) Ops { return c.ops }

// Announce says on L's stderr, once, that e does not answer and its state
// is read from disk (and, once, that it answers again), as the docker
// module's own calls do.
func Announce(L *lua.LState, e *Engine) { announce(L, e) }
