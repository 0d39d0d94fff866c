package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
)

// Container is a snapshot of one container, taken at lookup (Refresh
// re-reads it).
type Container struct {
	ID           string
	Name         string // without the leading "/"
	Image        string // as it was given: "ctrsh-test/busybox"
	ImageID      string
	State        string // created, running, paused, restarting, removing, exited, dead
	Status       string // as docker ps shows it: "Up 3 minutes (Paused)"
	PID          int    // 0 when not running
	Created      time.Time
	StartedAt    time.Time
	FinishedAt   time.Time // its last stop (zero: never stopped)
	Labels       map[string]string
	RestartCount int
	ExitCode     int
	OOMKilled    bool
	TTY          bool   // its output is a terminal: logs are not multiplexed
	LogDriver    string // json-file, local, journald, ...
	LogPath      string // the json-file log's path on the engine's host
	// RestartPolicy is the restart policy's name: "no", "always",
	// "unless-stopped", "on-failure" ("" when the engine did not say).
	RestartPolicy string
	// Source says where the snapshot was read: SourceEngine, or SourceDisk
	// when the engine did not answer (see disk.go).
	Source string
	// Runtime is what runs it: "docker" or "podman" (the engine, as its
	// /version says), "containerd", "cri-o" (a CRI runtime's Ops).
	Runtime string

	// Pod is its Kubernetes pod as its runtime said (the CRI's); PodOf also
	// reads the kubelet's labels.
	Pod *Pod

	// Raw is the engine's inspect document (nil when read from disk).
	Raw json.RawMessage

	ops      Ops  // nil: the engine serves it
	partial  bool // read from the engine's list: Complete inspects it
	engine   *Engine
	dataRoot string           // the data root it was read from (SourceDisk)
	onDisk   *container.State // its state as the files said (SourceDisk)
}

// Where a Container's snapshot was read.
const (
	SourceEngine = "engine"
	SourceDisk   = "disk"
)

// ShortID is the first 12 characters of the id.
func (c *Container) ShortID() string {
	if len(c.ID) > 12 {
		return c.ID[:12]
	}
	return c.ID
}

// Subject names the container in messages: `container "web"`, and
// `container "web" in pod "default/web-1"` for a pod's.
func (c *Container) Subject() string {
	if c.Pod != nil {
		return fmt.Sprintf("container %q in pod %q", c.Name, c.Pod.String())
	}
	return fmt.Sprintf("container %q", c.Name)
}

// Engine is the client the container was read through.
func (c *Container) Engine() *Engine { return c.engine }

// ErrAmbiguous is wrapped by the error of a lookup whose prefix matches
// several containers.
var ErrAmbiguous = errors.New("ambiguous")

// ErrNoSuchContainer is wrapped by the error of a lookup that matches none.
var ErrNoSuchContainer = errors.New("no such container")

// Lookup finds the container ref names (a name, an id, or a unique id
// prefix) as the engine resolves it. The errors are `container "nope": no
// such container` and `container "3f": ambiguous: matches 3f2a1c4d5e6f
// (web), 3f9b... (db)`.
//
// When the engine does not answer, the container is looked up in its state
// on disk (Source is SourceDisk); the error says so when that fails too.
func Lookup(ctx context.Context, e *Engine, ref string) (*Container, error) {
	c, err := lookupEngine(ctx, e, ref)
	if !NotAnswering(err) {
		return c, err
	}
	d, derr := e.fallback(err)
	if derr != nil {
		return nil, fmt.Errorf("container %q: %w", ref, derr)
	}
	return d.lookup(ctx, ref)
}

// inspect is ContainerInspect bounded by CallTimeout.
func (e *Engine) inspect(ctx context.Context, ref string) (res client.ContainerInspectResult, err error) {
	err = e.call(ctx, CallTimeout, func(ctx context.Context) error {
		res, err = e.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
		return err
	})
	return res, err
}

func lookupEngine(ctx context.Context, e *Engine, ref string) (*Container, error) {
	subject := fmt.Sprintf("container %q", ref)
	res, err := e.inspect(ctx, ref)
	if NotAnswering(err) {
		return nil, err
	}
	if err != nil {
		// Asked before not-found: Podman answers an ambiguous prefix with a
		// 404 ("more than one result for container ID 5"). Docker words it
		// "Multiple IDs found with provided prefix" (20.10) or "multiple IDs
		// found" / "ambiguous" (newer).
		if isAmbiguous(err) {
			return nil, ambiguous(ctx, e, ref, subject)
		}
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", subject, ErrNoSuchContainer)
		}
		return nil, e.ContainerErr(subject, err)
	}
	return fromInspect(e, res.Container, res.Raw), nil
}

// isAmbiguous says whether the engine refused a reference because it
// names more than one container.
func isAmbiguous(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"multiple ids found", "ambiguous", "more than one result"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// ambiguous lists the containers whose id starts with prefix.
func ambiguous(ctx context.Context, e *Engine, prefix, subject string) error {
	list, err := e.list(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return fmt.Errorf("%s: %w", subject, ErrAmbiguous)
	}
	var cands []string
	for _, s := range list.Items {
		if strings.HasPrefix(s.ID, prefix) {
			cands = append(cands, fmt.Sprintf("%.12s (%s)", s.ID, summaryName(s)))
		}
	}
	sort.Strings(cands)
	return fmt.Errorf("%s: %w: matches %s", subject, ErrAmbiguous, strings.Join(cands, ", "))
}

func summaryName(s container.Summary) string {
	for _, n := range s.Names {
		// Links show as /other/alias; the container's own name has one slash.
		if strings.Count(n, "/") == 1 {
			return strings.TrimPrefix(n, "/")
		}
	}
	if len(s.Names) > 0 {
		return strings.TrimPrefix(s.Names[0], "/")
	}
	return ""
}

func fromInspect(e *Engine, in container.InspectResponse, raw json.RawMessage) *Container {
	c := &Container{
		ID:           in.ID,
		Name:         strings.TrimPrefix(in.Name, "/"),
		ImageID:      in.Image,
		RestartCount: in.RestartCount,
		Raw:          raw,
		Source:       SourceEngine,
		Runtime:      e.Runtime(),
		engine:       e,
	}
	c.Created, _ = time.Parse(time.RFC3339Nano, in.Created)
	if in.Config != nil {
		c.Image = in.Config.Image
		c.Labels = in.Config.Labels
		c.TTY = in.Config.Tty
	}
	if in.HostConfig != nil {
		c.LogDriver = in.HostConfig.LogConfig.Type
		c.RestartPolicy = string(in.HostConfig.RestartPolicy.Name)
	}
	if c.Runtime == "podman" {
		c.Image = familiarImage(c.Image)
	}

	c.LogPath = in.LogPath
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if st := in.State; st != nil {
		if c.Runtime == "podman" {
			norm := *st
			norm.Status = container.ContainerState(dockerState(string(st.Status)))
			st = &norm
		}
		c.State = string(st.Status)
		c.PID = st.Pid
		c.ExitCode = st.ExitCode
		c.OOMKilled = st.OOMKilled
		c.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
		if f, err := time.Parse(time.RFC3339Nano, st.FinishedAt); err == nil && f.Year() > 1 {
			c.FinishedAt = f
		}
		c.Status = humanStatus(st, time.Now())
	}
	return c
}

// humanStatus is the Status column of docker ps, computed from the state.
func humanStatus(st *container.State, now time.Time) string {
	started, _ := time.Parse(time.RFC3339Nano, st.StartedAt)
	finished, _ := time.Parse(time.RFC3339Nano, st.FinishedAt)
	ago := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return " " + units.HumanDuration(now.Sub(t)) + " ago"
	}
	switch st.Status {
	case container.StateRunning, container.StatePaused:
		s := "Up " + units.HumanDuration(now.Sub(started))
		if st.Paused {
			s += " (Paused)"
		}
		if st.Health != nil && st.Health.Status != "" && st.Health.Status != "none" {
			s += " (" + string(st.Health.Status) + ")"
		}
		return s
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d)%s", st.ExitCode, ago(finished))
	case container.StateExited:
		if finished.IsZero() {
			return fmt.Sprintf("Exited (%d)", st.ExitCode)
		}
		return fmt.Sprintf("Exited (%d)%s", st.ExitCode, ago(finished))
	case container.StateCreated:
		return "Created"
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	}
	return string(st.Status)
}

// Refresh re-reads the container from the engine, or from its state on
// disk while the engine does not answer (and from the engine again once it
// does, whatever the snapshot's Source was).
func (c *Container) Refresh(ctx context.Context) error {
	if c.ops != nil {
		return c.ops.Refresh(ctx, c)
	}
	res, err := c.engine.inspect(ctx, c.ID)
	if NotAnswering(err) {
		d, derr := c.engine.fallback(err)
		if derr != nil {
			return fmt.Errorf("%s: %w", c.Subject(), derr)
		}
		n, err := d.lookup(ctx, c.ID)
		if err != nil {
			if errors.Is(err, ErrNoSuchContainer) {
				return fmt.Errorf("%s: no such container", c.Subject())
			}
			return err
		}
		*c = *n
		return nil
	}
	if err != nil {
		return c.engine.ContainerErr(c.Subject(), err)
	}
	n := fromInspect(c.engine, res.Container, res.Raw)
	*c = *n
	return nil
}

// ListOptions are the options of List: docker ps semantics.
type ListOptions struct {
	All     bool
	Filters map[string][]string
}

// List returns the containers docker ps would list, from the engine's
// list alone: each running one's PID comes from its cgroup, found from its
// id (only one whose cgroup is elsewhere is inspected). They are Partial:
// what only an inspect says (restart count, times, exit code, log file) is
// read when first asked for (Complete). When the engine does not answer
// (the list or any inspection), they are read from its state on disk.
func List(ctx context.Context, e *Engine, o ListOptions) ([]*Container, error) {
	list, err := listEngine(ctx, e, o)
	if !NotAnswering(err) {
		return list, err
	}
	d, derr := e.fallback(err)
	if derr != nil {
		return nil, fmt.Errorf("docker containers: %w", derr)
	}
	return d.list(ctx, o)
}

// list is ContainerList bounded by CallTimeout.
func (e *Engine) list(ctx context.Context, o client.ContainerListOptions) (res client.ContainerListResult, err error) {
	err = e.call(ctx, CallTimeout, func(ctx context.Context) error {
		res, err = e.ContainerList(ctx, o)
		return err
	})
	return res, err
}

func listEngine(ctx context.Context, e *Engine, o ListOptions) ([]*Container, error) {
	f := client.Filters{}
	for k, vs := range o.Filters {
		f.Add(k, vs...)
	}
	res, err := e.list(ctx, client.ContainerListOptions{All: o.All, Filters: f})
	if NotAnswering(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("docker containers: %w", e.Err(err))
	}
	out := make([]*Container, len(res.Items))
	var unknown []int // running, but no cgroup of a known layout: inspected
	for i, s := range res.Items {
		c := fromSummary(e, s)
		if c.State == "running" || c.State == "paused" || c.State == "restarting" {
			if c.PID = initPID(e.hostRoot, c.ID); c.PID <= 0 {
				unknown = append(unknown, i)
			}
		}
		out[i] = c
	}
	if err := inspectEach(ctx, e, res.Items, unknown, out); err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, c := range out {
		if c != nil {
			kept = append(kept, c)
		}
	}
	return kept, nil
}

// fromSummary is a container as the engine's list describes it: Partial,
// its PID not yet known.
func fromSummary(e *Engine, s container.Summary) *Container {
	c := &Container{
		ID: s.ID, Name: summaryName(s), Image: s.Image, ImageID: s.ImageID,
		State: string(s.State), Status: s.Status, Labels: s.Labels,
		Created: time.Unix(s.Created, 0), Source: SourceEngine, Runtime: e.Runtime(),
		engine: e, partial: true,
	}
	if c.Runtime == "podman" {
		c.Image = familiarImage(c.Image)
		c.State = dockerState(c.State)
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	return c
}

// initPID is the PID of the container's init, from its cgroup found from
// its id (see cgroup.ForContainer); 0 when not found so.
func initPID(root, id string) int {
	cg, err := cgroup.ForContainer(root, id)
	if err != nil {
		return 0
	}
	pid, _ := cg.InitProc()
	return pid
}

// inspectEach inspects the listed containers at idx (in parallel) into
// out; one removed since the list becomes nil.
func inspectEach(ctx context.Context, e *Engine, items []container.Summary, idx []int, out []*Container) error {
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for k, i := range idx {
		s := items[i]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := e.inspect(ctx, s.ID)
			if err != nil {
				out[i] = nil
				if NotAnswering(err) {
					errs[k] = err
				} else if !isNotFound(err) {
					errs[k] = e.ContainerErr(fmt.Sprintf("container %q", summaryName(s)), err)
				}
				return
			}
			c := fromInspect(e, r.Container, r.Raw)
			c.Status = s.Status // the engine's own wording
			out[i] = c
		})
	}
	wg.Wait()
	for _, err := range errs {
		if NotAnswering(err) {
			return err
		}
	}
	return errors.Join(errs...)
}

// Complete fills the fields of a container read from the engine's list
// (restart count, times, exit code, log file, inspect document) with one
// inspect; nothing to do for others.
func (c *Container) Complete(ctx context.Context) error {
	if !c.partial {
		return nil
	}
	return c.Refresh(ctx)
}

// Partial says whether the container was read from the engine's list and
// not yet Completed.
func (c *Container) Partial() bool { return c.partial }

// decodeJSON decodes an engine document keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
