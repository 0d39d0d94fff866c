// Package top is ctrsh's live view of every container (`ctrsh top`, and
// top() in the shell): a Collector reads each container's cgroup files
// and network counters directly (a refresh of 100 containers costs a few
// milliseconds of CPU), a Model holds what the screen shows and changes
// only in Update (bubbletea's structure: keys, samples and loaded details
// are messages; everything slow is a Cmd run apart), and a Program runs it
// on a terminal with raw ANSI — or, off a terminal, prints one sample.
package top

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/docker"
)

// Target is one running container as a Source lists it.
type Target struct {
	ID, Name, Image string
	Runtime         string // "docker", "podman", ...
	Source          string // where it was read: "engine", or "disk" when the engine does not answer
	Pod             string // its Kubernetes pod, "namespace/name", where known
	PID             int    // a process of the container, as the host sees it
	Restarts        int    // -1 unknown
}

// Source lists the running containers the view shows. Listing is cheap
// and done on every refresh; a Source keeps what is costly to learn (a
// container's PID) between calls.
type Source interface {
	// Name says where the containers come from: "docker".
	Name() string
	// List returns the running containers. When it fails the view keeps
	// its last list and says why.
	List(ctx context.Context) ([]Target, error)
}

// A Source that can say something about the list it gave (read from the
// engine's state on disk) has a Note; the view shows it.
type noter interface{ Note() string }

// ListTimeout bounds one List: an engine that does not answer must not
// freeze the view.
var ListTimeout = 2 * time.Second

// DockerSource lists the containers of a Docker Engine (or Podman's
// Docker-compatible socket): one list call per refresh, and an inspect
// only for a container seen for the first time or whose process is gone
// (it restarted). When the engine does not answer, the docker module reads
// its containers from the engine's state on disk, and Note says so.
type DockerSource struct {
	Engine   *docker.Engine
	Root     string // host root for /proc ("/")
	known    map[string]Target
	fromDisk bool
}

// NewDockerSource lists the containers of e.
func NewDockerSource(e *docker.Engine, root string) *DockerSource {
	return &DockerSource{Engine: e, Root: root, known: map[string]Target{}}
}

// Name is the engine's runtime, "docker" or "podman", and where the last
// list came from when not the engine: "docker, from disk".
func (d *DockerSource) Name() string {
	if d.fromDisk {
		return d.Engine.Runtime() + ", from disk"
	}
	return d.Engine.Runtime()
}

// Note says why the containers come from the engine's state on disk.
func (d *DockerSource) Note() string {
	if !d.fromDisk {
		return ""
	}
	why := "the engine does not answer"
	if err := d.Engine.Down(); err != nil {
		why = err.Error()
	}
	return "containers from the engine's state on disk: " + why
}

// List lists the running containers. While the engine answers, it lists
// them itself; when it fails, or is known not to answer, the docker
// module's List is asked (with its own time), which reads the engine's
// state on disk where the engine does not answer.
func (d *DockerSource) List(ctx context.Context) ([]Target, error) {
	d.fromDisk = false
	if d.Engine.Down() != nil {
		return d.fallback(ctx, d.Engine.Down())
	}
	lctx, cancel := context.WithTimeout(ctx, ListTimeout)
	defer cancel()
	// Once: the API version, and the data root remembered for when the
	// engine stops answering.
	if err := d.Engine.Negotiate(lctx); err != nil {
		return d.fallback(ctx, err)
	}
	res, err := d.Engine.ContainerList(lctx, client.ContainerListOptions{})
	if err != nil {
		return d.fallback(ctx, d.Engine.Err(err))
	}
	out := make([]Target, 0, len(res.Items))
	seen := make(map[string]bool, len(res.Items))
	for _, s := range res.Items {
		seen[s.ID] = true
		t, ok := d.known[s.ID]
		if !ok || !d.alive(t.PID) {
			c, err := docker.Lookup(lctx, d.Engine, s.ID)
			if err != nil || c.PID <= 0 {
				if errors.Is(err, context.DeadlineExceeded) || docker.NotAnswering(err) {
					return d.fallback(ctx, err)
				}
				continue // gone or stopped since the list
			}
			t = target(c)
			d.known[s.ID] = t
		}
		out = append(out, t)
	}
	for id := range d.known {
		if !seen[id] {
			delete(d.known, id)
		}
	}
	return out, nil
}

func target(c *docker.Container) Target {
	t := Target{ID: c.ID, Name: c.Name, Image: c.Image, Runtime: c.Runtime, Source: c.Source, PID: c.PID, Restarts: c.RestartCount}
	if p := c.PodOf(); p != nil && p.Name != "" {
		t.Pod = p.Namespace + "/" + p.Name
	}
	return t
}

// fallback lists through docker.List when the engine's list failed with
// err; err when that fails too.
func (d *DockerSource) fallback(ctx context.Context, err error) ([]Target, error) {
	// Time for the engine's own bounded call, then the state on disk.
	ctx, cancel := context.WithTimeout(ctx, docker.CallTimeout+ListTimeout)
	defer cancel()
	list, ferr := docker.List(ctx, d.Engine, docker.ListOptions{})
	if ferr != nil {
		return nil, err
	}
	out := make([]Target, 0, len(list))
	for _, c := range list {
		if c.PID > 0 {
			out = append(out, target(c))
			d.fromDisk = d.fromDisk || c.Source == docker.SourceDisk
		}
	}
	return out, nil
}

// alive reports whether pid still runs.
func (d *DockerSource) alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	_, err := os.Stat(d.Root + "/proc/" + strconv.Itoa(pid))
	return err == nil
}
