package cgroup

import "syscall"

var errNoDevice = syscall.ENODEV

// Memory is the memory figures of a cgroup, in bytes. nil: not available.
type Memory struct {
	Usage    *uint64 // v1 memory.usage_in_bytes, v2 memory.current
	Limit    *uint64 // v1 memory.limit_in_bytes, v2 memory.max; nil when unlimited
	MaxUsage *uint64 // v1 memory.max_usage_in_bytes, v2 memory.peak (kernel 5.19+)
	// WorkingSet is what docker stats shows: usage minus inactive file
	// pages (v1 total_inactive_file, v2 inactive_file), never below 0.
	WorkingSet *uint64
	Cache      *uint64 // v1 total_cache, v2 file
	RSS        *uint64 // v1 total_rss, v2 anon
	Swap       *uint64 // v1 memsw.usage - usage, v2 memory.swap.current
	Failcnt    *uint64 // v1 memory.failcnt (v2 has none)
	OOMKills   *uint64 // v1 oom_kill of memory.oom_control (kernel 4.13+), v2 oom_kill of memory.events
	Unlimited  bool    // the limit is "max" (v2) or the v1 no-limit value
	Stat       map[string]uint64
	Events     map[string]uint64 // v2 memory.events
}

// Memory reads the cgroup's memory figures.
func (c *Cgroup) Memory() (*Memory, error) {
	if c.Version == 2 {
		return c.memoryV2()
	}
	return c.memoryV1()
}

func (c *Cgroup) memoryV1() (*Memory, error) {
	m := &Memory{}
	var err error
	read := func(dst **uint64, name string) {
		if err == nil {
			*dst, err = c.readUint("memory", name)
		}
	}
	read(&m.Usage, "memory.usage_in_bytes")
	read(&m.MaxUsage, "memory.max_usage_in_bytes")
	read(&m.Failcnt, "memory.failcnt")
	var memsw *uint64
	read(&memsw, "memory.memsw.usage_in_bytes")
	if err != nil {
		return nil, err
	}
	if m.Limit, m.Unlimited, err = c.readLimit("memory", "memory.limit_in_bytes"); err != nil {
		return nil, err
	}
	if m.Stat, err = c.readKV("memory", "memory.stat"); err != nil {
		return nil, err
	}
	oom, err := c.readKV("memory", "memory.oom_control")
	if err != nil {
		return nil, err
	}
	m.OOMKills = key(oom, "oom_kill")
	m.Cache = key(m.Stat, "total_cache", "cache")
	m.RSS = key(m.Stat, "total_rss", "rss")
	m.WorkingSet = workingSet(m.Usage, key(m.Stat, "total_inactive_file", "inactive_file"))
	if memsw != nil && m.Usage != nil {
		m.Swap = ptr(sub(*memsw, *m.Usage))
	}
	return m, nil
}

func (c *Cgroup) memoryV2() (*Memory, error) {
	m := &Memory{}
	var err error
	read := func(dst **uint64, name string) {
		if err == nil {
			*dst, err = c.readUint("", name)
		}
	}
	read(&m.Usage, "memory.current")
	read(&m.MaxUsage, "memory.peak")
	read(&m.Swap, "memory.swap.current")
	if err != nil {
		return nil, err
	}
	if m.Limit, m.Unlimited, err = c.readLimit("", "memory.max"); err != nil {
		return nil, err
	}
	if m.Stat, err = c.readKV("", "memory.stat"); err != nil {
		return nil, err
	}
	if m.Events, err = c.readKV("", "memory.events"); err != nil {
		return nil, err
	}
	m.OOMKills = key(m.Events, "oom_kill")
	m.Cache = key(m.Stat, "file")
	m.RSS = key(m.Stat, "anon")
	m.WorkingSet = workingSet(m.Usage, key(m.Stat, "inactive_file"))
	return m, nil
}

func workingSet(usage, inactive *uint64) *uint64 {
	if usage == nil {
		return nil
	}
	if inactive == nil {
		return ptr(*usage)
	}
	return ptr(sub(*usage, *inactive))
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// OOMKills reads the cgroup's OOM kill count: v1 oom_kill in
// memory.oom_control, v2 oom_kill in memory.events. nil when the kernel
// does not count them.
func (c *Cgroup) OOMKills() (*uint64, error) {
	ctrl, name := "memory", "memory.oom_control"
	if c.Version == 2 {
		ctrl, name = "", "memory.events"
	}
	kv, err := c.readKV(ctrl, name)
	if err != nil {
		return nil, err
	}
	return key(kv, "oom_kill"), nil
}
