package top

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ctrsh/ctrsh/bindings/containers"
	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
)

// Runtimes is the Source of every runtime the containers module finds on
// the host (containers.Runtimes): each engine of the Docker API (Docker,
// Podman) through a DockerSource, each CRI runtime (containerd, CRI-O)
// through a CRISource, listed side by side.
type Runtimes struct {
	rts     []*containers.Runtime
	sources []Source
}

// NewRuntimes lists the containers of rts, reading /proc below root.
func NewRuntimes(rts []*containers.Runtime, root string) (*Runtimes, error) {
	r := &Runtimes{rts: rts}
	for _, rt := range rts {
		switch rt.Kind {
		case "docker":
			e, err := docker.NewEngine(rt.Endpoint)
			if err != nil {
				return nil, err
			}
			r.sources = append(r.sources, NewDockerSource(e, root))
		case "cri":
			r.sources = append(r.sources, &CRISource{rt: rt, known: map[string]Target{}})
		}
	}
	if len(r.sources) == 0 {
		return nil, errors.New("no container runtime on this host (no Docker or Podman socket, no CRI runtime)")
	}
	return r, nil
}

// Name names the runtimes: "docker", "docker+containerd".
func (r *Runtimes) Name() string {
	names := make([]string, len(r.sources))
	for i, s := range r.sources {
		names[i] = s.Name()
	}
	return strings.Join(names, "+")
}

// Note is what the runtimes say of their lists.
func (r *Runtimes) Note() string {
	var notes []string
	for _, s := range r.sources {
		if n, ok := s.(noter); ok && n.Note() != "" {
			notes = append(notes, n.Note())
		}
	}
	return strings.Join(notes, "; ")
}

// List lists every runtime's running containers, side by side; a runtime
// that fails is named in the error, the others' containers are returned.
func (r *Runtimes) List(ctx context.Context) ([]Target, error) {
	lists := make([][]Target, len(r.sources))
	errs := make([]error, len(r.sources))
	var wg sync.WaitGroup
	for i, s := range r.sources {
		wg.Go(func() { lists[i], errs[i] = s.List(ctx) })
	}
	wg.Wait()
	var out []Target
	failed := 0
	for i, l := range lists {
		out = append(out, l...)
		if errs[i] != nil {
			failed++
		}
	}
	err := errors.Join(errs...)
	if failed == len(r.sources) {
		return nil, err
	}
	return out, err
}

// Lookup finds a container of any runtime, for the detail view.
func (r *Runtimes) Lookup(ctx context.Context, id string) (*docker.Container, error) {
	return containers.Get(ctx, r.rts, id)
}

// CRISource lists the containers of a CRI runtime: one ListContainers call
// per refresh, and a status only for a container seen for the first time.
// When the runtime does not answer, its containers come from its state on
// disk (the containers module's list).
type CRISource struct {
	rt       *containers.Runtime
	client   *cri.Client
	known    map[string]Target
	fromDisk bool
}

// Name is the runtime's: "containerd", "cri-o".
func (s *CRISource) Name() string {
	if s.fromDisk {
		return s.rt.Name + ", from disk"
	}
	return s.rt.Name
}

// Note says why the containers come from the runtime's state on disk.
func (s *CRISource) Note() string {
	if !s.fromDisk {
		return ""
	}
	return fmt.Sprintf("%s containers from its state on disk: %v", s.rt.Name, s.rt.Down)
}

// List lists the running containers.
func (s *CRISource) List(ctx context.Context) ([]Target, error) {
	s.fromDisk = false
	if s.rt.Err != nil {
		return nil, s.rt.Err
	}
	if s.rt.Down != nil {
		return s.disk(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, ListTimeout)
	defer cancel()
	if s.client == nil {
		c, err := cri.Dial(ctx, s.rt.Endpoint)
		if err != nil {
			return nil, err
		}
		s.client = c
	}
	ids, err := s.client.RunningIDs(ctx)
	if err != nil {
		return nil, err
	}
	return s.targets(ctx, ids), nil
}

// targets are the containers of ids, read from the runtime when new.
func (s *CRISource) targets(ctx context.Context, ids []string) []Target {
	out := make([]Target, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
		t, ok := s.known[id]
		if !ok {
			c, err := s.client.Container(ctx, id)
			if err != nil || c.PID <= 0 {
				continue
			}
			t = target(c)
			s.known[id] = t
		}
		out = append(out, t)
	}
	for id := range s.known {
		if !seen[id] {
			delete(s.known, id)
		}
	}
	return out
}

// disk lists the runtime's containers from its state on disk.
func (s *CRISource) disk(ctx context.Context) ([]Target, error) {
	list, errs := containers.List(ctx, []*containers.Runtime{s.rt}, containers.ListOptions{})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.fromDisk = true
	out := make([]Target, 0, len(list))
	for _, c := range list {
		if c.PID > 0 {
			out = append(out, target(c))
		}
	}
	return out, nil
}
