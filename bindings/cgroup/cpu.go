package cgroup

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// CPU is the cpu figures of a cgroup. nil: not available.
type CPU struct {
	UsageNs     *uint64 // v1 cpuacct.usage, v2 usage_usec of cpu.stat
	UserNs      *uint64 // v1 cpuacct.stat user, v2 user_usec
	SystemNs    *uint64 // v1 cpuacct.stat system, v2 system_usec
	ThrottledNs *uint64 // v1 throttled_time, v2 throttled_usec
	NrThrottled *uint64
	NrPeriods   *uint64
	// QuotaCores is quota/period: how many CPUs' worth the cgroup may use;
	// nil when unlimited.
	QuotaCores *float64
	Shares     *uint64 // v1 cpu.shares
	Weight     *uint64 // v2 cpu.weight
	Stat       map[string]uint64
}

// CPU reads the cgroup's cpu figures.
func (c *Cgroup) CPU() (*CPU, error) {
	if c.Version == 2 {
		return c.cpuV2()
	}
	return c.cpuV1()
}

func (c *Cgroup) cpuV1() (*CPU, error) {
	u := &CPU{}
	var err error
	if u.UsageNs, err = c.readUint("cpuacct", "cpuacct.usage"); err != nil {
		return nil, err
	}
	acct, err := c.readKV("cpuacct", "cpuacct.stat")
	if err != nil {
		return nil, err
	}
	// cpuacct.stat counts USER_HZ ticks (10 ms).
	if v := key(acct, "user"); v != nil {
		u.UserNs = ptr(*v * 10_000_000)
	}
	if v := key(acct, "system"); v != nil {
		u.SystemNs = ptr(*v * 10_000_000)
	}
	if u.Stat, err = c.readKV("cpu", "cpu.stat"); err != nil {
		return nil, err
	}
	u.ThrottledNs = key(u.Stat, "throttled_time")
	u.NrThrottled = key(u.Stat, "nr_throttled")
	u.NrPeriods = key(u.Stat, "nr_periods")
	if u.Shares, err = c.readUint("cpu", "cpu.shares"); err != nil {
		return nil, err
	}
	quota, unlimited, err := c.readLimit("cpu", "cpu.cfs_quota_us")
	if err != nil {
		return nil, err
	}
	period, err := c.readUint("cpu", "cpu.cfs_period_us")
	if err != nil {
		return nil, err
	}
	if !unlimited && quota != nil && period != nil && *period > 0 {
		u.QuotaCores = ptr(float64(*quota) / float64(*period))
	}
	return u, nil
}

func (c *Cgroup) cpuV2() (*CPU, error) {
	u := &CPU{}
	var err error
	if u.Stat, err = c.readKV("", "cpu.stat"); err != nil {
		return nil, err
	}
	us := func(name string) *uint64 {
		if v := key(u.Stat, name); v != nil {
			return ptr(*v * 1000)
		}
		return nil
	}
	u.UsageNs, u.UserNs, u.SystemNs, u.ThrottledNs = us("usage_usec"), us("user_usec"), us("system_usec"), us("throttled_usec")
	u.NrThrottled = key(u.Stat, "nr_throttled")
	u.NrPeriods = key(u.Stat, "nr_periods")
	if u.Weight, err = c.readUint("", "cpu.weight"); err != nil {
		return nil, err
	}
	b, ok, err := c.read("", "cpu.max")
	if err != nil {
		return nil, err
	}
	if ok {
		if u.QuotaCores, err = parseCPUMax(b); err != nil {
			return nil, fmt.Errorf("cgroup %s: cpu.max: %w", c.Path, err)
		}
	}
	return u, nil
}

// parseCPUMax reads "max 100000" or "150000 100000" (quota period).
func parseCPUMax(b []byte) (*float64, error) {
	f := strings.Fields(string(bytes.TrimSpace(b)))
	if len(f) != 2 {
		return nil, fmt.Errorf("malformed %q", b)
	}
	if f[0] == "max" {
		return nil, nil
	}
	q, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("bad period %q", f[1])
	}
	return ptr(float64(q) / float64(p)), nil
}

// Pids is the pids figures of a cgroup.
type Pids struct {
	Current   *uint64
	Limit     *uint64 // nil when unlimited
	Unlimited bool
}

// Pids reads pids.current and pids.max.
func (c *Cgroup) Pids() (*Pids, error) {
	p := &Pids{}
	var err error
	if p.Current, err = c.readUint("pids", "pids.current"); err != nil {
		return nil, err
	}
	if p.Limit, p.Unlimited, err = c.readLimit("pids", "pids.max"); err != nil {
		return nil, err
	}
	return p, nil
}
