package docker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/proc"
)

// statTargets lists the running containers matching filters with one
// engine call (no inspect per container); ReadStats finds each one's
// cgroup from its id. When the engine does not answer, the running
// containers are those of its state on disk.
func statTargets(ctx context.Context, e *Engine, root string, filters map[string][]string) ([]StatTarget, error) {
	f := client.Filters{}
	for k, vs := range filters {
		f.Add(k, vs...)
	}
	res, err := e.list(ctx, client.ContainerListOptions{Filters: f})
	if NotAnswering(err) {
		d, derr := e.fallback(err)
		if derr != nil {
			return nil, fmt.Errorf("docker containers: %w", derr)
		}
		list, err := d.list(ctx, ListOptions{Filters: filters})
		if err != nil {
			return nil, err
		}
		targets := make([]StatTarget, 0, len(list))
		for _, c := range list {
			if c.PID > 0 {
				targets = append(targets, StatTarget{ID: c.ID, Name: c.Name, PID: c.PID})
			}
		}
		return targets, nil
	}
	if err != nil {
		return nil, fmt.Errorf("docker containers: %w", e.Err(err))
	}
	targets := make([]StatTarget, 0, len(res.Items))
	for _, s := range res.Items {
		targets = append(targets, StatTarget{ID: s.ID, Name: summaryName(s)})
	}
	return targets, nil
}

// topRows reads c:top() from the container's cgroup (found from its id,
// else from its PID): its cgroup.procs lists exactly its processes, which
// are then read in one pass. When the cgroup cannot be read, the whole of
// /proc is searched for the id.
func topRows(ctx context.Context, c *Container, procRoot, cgroupRoot string) ([]proc.TopRow, error) {
	fs, err := proc.NewFS(procRoot)
	if err != nil {
		return nil, err
	}
	if pids, err := cgroupProcs(cgroupRoot, c.PID, c.ID); err == nil && len(pids) > 0 {
		rows, err := fs.TopOf(ctx, pids)
		if err == nil && len(rows) > 0 {
			return rows, nil
		}
	}
	return fs.Top(ctx, c.ID)
}

// cgroupProcs lists the processes of the container's cgroup: found from
// its id, else the cgroup of pid when that is the container's (its path
// names the container id: a snapshot's PID may since belong to another
// process).
func cgroupProcs(root string, pid int, id string) ([]int, error) {
	ms, err := cgroup.CachedMounts(root)
	if err != nil {
		return nil, err
	}
	if cg, err := ms.ForContainer(id); err == nil {
		if pids, err := cg.Procs(); err == nil && len(pids) > 0 {
			return pids, nil
		}
	}
	if pid <= 0 {
		return nil, fmt.Errorf("container %.12s: not running", id)
	}
	cg, err := ms.ForPID(pid)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(cg.Path, id) {
		return nil, fmt.Errorf("process %d is not in container %s", pid, id)
	}
	return cg.Procs()
}

// StatTargets lists the running containers that ReadStats can read, as
// docker.stats does (one container list), each with its init's PID (from
// its cgroup, found from its id; one pass over /proc for those not found
// so): the journal's sampler uses it.
func StatTargets(ctx context.Context, e *Engine, root string, filters map[string][]string) ([]StatTarget, error) {
	targets, err := statTargets(ctx, e, root, filters)
	if err != nil {
		return nil, err
	}
	return withPIDs(ctx, root, targets), nil
}

// withPIDs sets the PID of each target that has none from its cgroup,
// else from one pass over /proc; targets with neither are left out.
func withPIDs(ctx context.Context, root string, targets []StatTarget) []StatTarget {
	ms, err := cgroup.CachedMounts(root)
	missing := false
	for i := range targets {
		t := &targets[i]
		if t.PID > 0 || err != nil {
			continue
		}
		if cg, err := ms.ForContainer(t.ID); err == nil {
			t.PID, _ = cg.InitProc()
		}
		missing = missing || t.PID <= 0
	}
	if missing || err != nil {
		var pids map[string]int
		if fs, err := proc.NewFS(root); err == nil {
			pids, _ = fs.ContainerPIDs(ctx)
		}
		for i := range targets {
			if targets[i].PID <= 0 {
				targets[i].PID = pids[targets[i].ID]
			}
		}
	}
	kept := targets[:0]
	for _, t := range targets {
		if t.PID > 0 {
			kept = append(kept, t)
		}
	}
	return kept
}

// diskTargets lists the running containers matching filters from the
// engine's state on disk, without calling it (the engine's list costs
// 15-30 ms at a hundred containers, more than reading all their cgroups):
// only when the data root is certain to be this engine's, that of the
// dockerd the kernel names as holding its socket (SO_PEERCRED), and the
// filters are ones the files answer. dockerd writes a container's
// config.v2.json at every change of its state, so the running ones are
// those the engine lists; one that died unseen has no cgroup left and its
// stats read says so. ok is false when the engine must be asked.
func diskTargets(e *Engine, root string, filters map[string][]string) ([]StatTarget, bool) {
	if e.Runtime() != "docker" || !strings.HasPrefix(e.Host, "unix://") {
		return nil, false
	}
	dd, ok := socketDockerd(root, socketKey(e.Host))
	if !ok || checkDataRoot(root, dd.dataRoot) != nil {
		return nil, false
	}
	m, err := compileFilters(filters)
	if err != nil {
		return nil, false
	}
	d := &diskView{e: e, hostRoot: root, root: dd.dataRoot, how: fmt.Sprintf("dockerd %d", dd.pid)}
	ids, err := d.ids()
	if err != nil {
		return nil, false
	}
	found := make([]*Container, len(ids))
	parallel(len(ids), func(i int) {
		cfg, err := d.readConfig(ids[i])
		if err != nil || !cfg.State.Running {
			return // removed meanwhile, or not running
		}
		if c := d.container(ids[i], cfg, &diskHostConfig{}); m.match(c) {
			found[i] = c
		}
	})
	kept := found[:0]
	for _, c := range found {
		if c != nil {
			kept = append(kept, c)
		}
	}
	// Newest first, as the engine lists them.
	sort.Slice(kept, func(i, j int) bool { return kept[i].Created.After(kept[j].Created) })
	targets := make([]StatTarget, len(kept))
	for i, c := range kept {
		targets[i] = StatTarget{ID: c.ID, Name: c.Name}
	}
	return targets, true
}
