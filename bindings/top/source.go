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
	Runtime         string // "docker", ...
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

// ListTimeout bounds one List: an engine that does not answer must not
// freeze the view.
var ListTimeout = 2 * time.Second

// DockerSource lists the containers of a Docker Engine (or Podman's
// Docker-compatible socket): one list call per refresh, and an inspect
// only for a container seen for the first time or whose process is gone
// (it restarted).
type DockerSource struct {
	Engine *docker.Engine
	Root   string // host root for /proc ("/")
	known  map[string]Target
}

// NewDockerSource lists the containers of e.
func NewDockerSource(e *docker.Engine, root string) *DockerSource {
	return &DockerSource{Engine: e, Root: root, known: map[string]Target{}}
}

// Name is "docker".
func (d *DockerSource) Name() string { return "docker" }

// List lists the running containers. When the engine's list fails, the
// docker module's List is asked (with its own time): where the engine does
// not answer, it reads the containers from the engine's state on disk.
func (d *DockerSource) List(ctx context.Context) ([]Target, error) {
	lctx, cancel := context.WithTimeout(ctx, ListTimeout)
	defer cancel()
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
				if errors.Is(err, context.DeadlineExceeded) {
					return nil, d.Engine.Err(err)
				}
				continue // gone or stopped since the list
			}
			t = Target{ID: c.ID, Name: c.Name, Image: c.Image, Runtime: "docker", PID: c.PID, Restarts: c.RestartCount}
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

// fallback lists through docker.List when the engine's list failed with
// err; err when that fails too.
func (d *DockerSource) fallback(ctx context.Context, err error) ([]Target, error) {
	ctx, cancel := context.WithTimeout(ctx, ListTimeout)
	defer cancel()
	list, ferr := docker.List(ctx, d.Engine, docker.ListOptions{})
	if ferr != nil {
		return nil, err
	}
	out := make([]Target, 0, len(list))
	for _, c := range list {
		if c.PID > 0 {
			out = append(out, Target{ID: c.ID, Name: c.Name, Image: c.Image, Runtime: "docker", PID: c.PID, Restarts: c.RestartCount})
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
