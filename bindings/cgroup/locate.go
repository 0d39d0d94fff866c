package cgroup

import (
	"fmt"
	"strings"
	"sync"
)

// Layouts are where container runtimes put a container's cgroup, as a
// path in the hierarchy with %s for the container's full id: the
// cgroupfs and systemd drivers of Docker and Podman. They are the same on
// v1, v2 and hybrid hosts (Mounts maps a path to each controller's
// directory). Kubernetes' layouts name the pod too, so they are not here:
// such containers are found through a process (ForPID).
var Layouts = []string{
	"/docker/%s",                               // Docker, cgroupfs driver
	"/system.slice/docker-%s.scope",            // Docker, systemd driver
	"/machine.slice/libpod-%s.scope",           // Podman, systemd driver
	"/libpod_parent/libpod-%s",                 // Podman, cgroupfs driver
	"/machine.slice/libpod-%s.scope/container", // Podman, systemd, in its own sub-cgroup
}

// mountCache keeps the mounts of each host root for the life of the
// process: /proc/self/mountinfo is read once per run, not once per
// container.
var mountCache struct {
	sync.Mutex
	byRoot map[string]*Mounts
	layout map[string]int // root → the index in Layouts that last matched
}

// CachedMounts is ReadMounts, read once per host root and process.
func CachedMounts(root string) (*Mounts, error) {
	if root == "" {
		root = "/"
	}
	mountCache.Lock()
	defer mountCache.Unlock()
	if ms, ok := mountCache.byRoot[root]; ok {
		return ms, nil
	}
	ms, err := ReadMounts(root)
	if err != nil {
		return nil, err
	}
	if mountCache.byRoot == nil {
		mountCache.byRoot = map[string]*Mounts{}
		mountCache.layout = map[string]int{}
	}
	mountCache.byRoot[root] = ms
	return ms, nil
}

// ForContainer returns the cgroup of the container whose full id is id,
// found from the id alone (one stat of its directory) in the Layouts: the
// layout that matched last on this host is tried first. The error wraps
// ErrNoCgroup when no layout has it (the container is not running, or its
// runtime puts it elsewhere: then find it through a process, ForPID).
func (ms *Mounts) ForContainer(id string) (*Cgroup, error) {
	if len(id) < 12 || strings.ContainsAny(id, "/.") {
		return nil, fmt.Errorf("container %s: %w", id, ErrNoCgroup)
	}
	mountCache.Lock()
	first, known := mountCache.layout[ms.Root]
	mountCache.Unlock()
	try := func(i int) *Cgroup {
		c, err := ms.Open(fmt.Sprintf(Layouts[i], id))
		if err != nil {
			return nil
		}
		mountCache.Lock()
		if mountCache.layout != nil {
			mountCache.layout[ms.Root] = i
		}
		mountCache.Unlock()
		return c
	}
	if known {
		if c := try(first); c != nil {
			return c, nil
		}
	}
	for i := range Layouts {
		if known && i == first {
			continue
		}
		if c := try(i); c != nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("container %.12s: %w", id, ErrNoCgroup)
}

// ForContainer is ForContainer on the cached mounts of host root.
func ForContainer(root, id string) (*Cgroup, error) {
	ms, err := CachedMounts(root)
	if err != nil {
		return nil, err
	}
	return ms.ForContainer(id)
}
