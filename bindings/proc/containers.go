package proc

import (
	"context"
)

// ContainerPIDs maps the id of every container that has a process on the
// host to its lowest PID, reading only /proc/PID/cgroup of each process:
// one small read a process, no engine round-trip. Any process of a
// container reaches its cgroup and its network namespace, which is what
// stats need.
func (f *FS) ContainerPIDs(ctx context.Context) (map[string]int, error) {
	pids, err := f.PIDs()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := f.read(pid, "cgroup")
		if err != nil {
			continue // gone meanwhile, or not ours to read
		}
		id, _ := containerOfLines(parseCgroup(b))
		if id == "" {
			continue
		}
		if old, ok := out[id]; !ok || pid < old {
			out[id] = pid
		}
	}
	return out, nil
}

// ContainerOf returns the id and runtime of the container process pid
// belongs to, read from its /proc/PID/cgroup ("", "" for a process of no
// container). The error wraps ErrNoProcess when there is no such process.
func (f *FS) ContainerOf(pid int) (id, runtime string, err error) {
	b, err := f.read(pid, "cgroup")
	if err != nil {
		return "", "", fileErr(pid, "cgroup", err)
	}
	id, runtime = containerOfLines(parseCgroup(b))
	return id, runtime, nil
}
