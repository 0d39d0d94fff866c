package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// The Brief reads are what docker stats shows, from as few files as that
// takes (docker.stats' default): they fill only some fields of Memory, CPU
// and Pids and leave the rest nil.

// MemoryBrief reads memory usage, limit, working set (usage less inactive
// file pages) and OOM kills: v1 memory.usage_in_bytes,
// memory.limit_in_bytes, memory.stat and memory.oom_control; v2
// memory.current, memory.max, memory.stat and memory.events. The OOM-kill
// count is one small file more than docker stats reads, kept because it is
// what an incident asks first.
func (c *Cgroup) MemoryBrief() (*Memory, error) {
	ctrl, usage, lim, inactive, oom := "memory", "memory.usage_in_bytes", "memory.limit_in_bytes", []string{"total_inactive_file", "inactive_file"}, "memory.oom_control"
	if c.Version == 2 {
		ctrl, usage, lim, inactive, oom = "", "memory.current", "memory.max", []string{"inactive_file"}, "memory.events"
	}
	m := &Memory{}
	var err error
	if m.Usage, _, err = c.recordLimit(ctrl, usage); err != nil {
		return nil, err
	}
	if m.Limit, m.Unlimited, err = c.recordLimit(ctrl, lim); err != nil {
		return nil, err
	}
	var in *uint64
	err = c.withRecord(ctrl, "memory.stat", func(b []byte) error {
		for _, k := range inactive {
			if v := kv(b, k); v >= 0 {
				in = ptr(uint64(v))
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.WorkingSet = workingSet(m.Usage, in)
	err = c.withRecord(ctrl, oom, func(b []byte) error {
		if v := kv(b, "oom_kill"); v >= 0 {
			m.OOMKills = ptr(uint64(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// CPUBrief reads the CPU time: v1 cpuacct.usage, v2 cpu.stat (usage,
// user, system and throttling, one file).
func (c *Cgroup) CPUBrief() (*CPU, error) {
	if c.Version == 2 {
		u := &CPU{}
		err := c.withRecord("", "cpu.stat", func(b []byte) error {
			us := func(name string) *uint64 {
				if v := kv(b, name); v >= 0 {
					return ptr(uint64(v) * 1000)
				}
				return nil
			}
			u.UsageNs, u.UserNs, u.SystemNs, u.ThrottledNs = us("usage_usec"), us("user_usec"), us("system_usec"), us("throttled_usec")
			return nil
		})
		return u, err
	}
	v, _, err := c.recordLimit("cpuacct", "cpuacct.usage")
	if err != nil {
		return nil, err
	}
	return &CPU{UsageNs: v}, nil
}

// PidsBrief reads pids.current.
func (c *Cgroup) PidsBrief() (*Pids, error) {
	v, _, err := c.recordLimit("pids", "pids.current")
	if err != nil {
		return nil, err
	}
	return &Pids{Current: v}, nil
}

// withRecord hands the bytes of file name of the controller's directory,
// a file of one record (see readInto), to fn (a pooled buffer fn must not
// keep); fn is not called when the kernel does not have the file. The
// errors are read's. All the Brief reads use it: cgroup.procs too, of
// which FirstProc needs only the first line.
func (c *Cgroup) withRecord(ctrl, name string, fn func([]byte) error) error {
	d, mounted := c.Dir(ctrl)
	if !mounted {
		return nil
	}
	err := readInto(d+"/"+name, true, fn) // d is clean, name a file name
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(d); serr != nil {
			return fmt.Errorf("cgroup %s: %w", c.Path, ErrNoCgroup)
		}
		return nil
	case errors.Is(err, errNoDevice):
		return nil
	}
	return fmt.Errorf("cgroup %s: %s: %w", c.Path, name, err)
}

// recordLimit reads a one-record file holding a number or "max", as
// readLimit does.
func (c *Cgroup) recordLimit(ctrl, name string) (v *uint64, unlimited bool, err error) {
	err = c.withRecord(ctrl, name, func(b []byte) (err error) {
		v, unlimited, err = c.parseLimit(name, b)
		return err
	})
	return v, unlimited, err
}

// FirstProc is a process of the cgroup (the first line of its
// cgroup.procs; the unified one on v2, the memory controller's on v1), 0
// when it has none. The error wraps ErrNoCgroup when the cgroup is gone.
func (c *Cgroup) FirstProc() (int, error) {
	ctrl := "memory"
	if c.Version == 2 {
		ctrl = ""
	}
	pid := 0
	// Only the first line is needed: the first read holds it.
	err := c.withRecord(ctrl, "cgroup.procs", func(b []byte) error {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[:i]
		}
		if len(b) == 0 {
			return nil
		}
		n, err := strconv.Atoi(string(b))
		if err != nil {
			return fmt.Errorf("cgroup %s: cgroup.procs: %w", c.Path, err)
		}
		pid = n
		return nil
	})
	return pid, err
}

// InitProc is the container's first process among the cgroup's: the
// lowest PID of its cgroup.procs (a container's init starts before the
// processes it makes, and PIDs rise until they wrap around); 0 when it
// has none.
func (c *Cgroup) InitProc() (int, error) {
	pids, err := c.Procs()
	if err != nil {
		return 0, err
	}
	low := 0
	for _, p := range pids {
		if low == 0 || p < low {
			low = p
		}
	}
	return low, nil
}
