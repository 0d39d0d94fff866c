package cgroup

import "strings"

// Frozen reports whether the cgroup is frozen (a paused container): v1's
// freezer.state is FROZEN (or FREEZING), v2's cgroup.freeze is 1. ok is
// false when the host has no freezer to read.
func (c *Cgroup) Frozen() (frozen, ok bool, err error) {
	if c.Version == 2 {
		b, ok, err := c.read("", "cgroup.freeze")
		if err != nil || !ok {
			return false, ok, err
		}
		return strings.TrimSpace(string(b)) == "1", true, nil
	}
	if _, has := c.paths["freezer"]; !has {
		return false, false, nil
	}
	b, ok, err := c.read("freezer", "freezer.state")
	if err != nil || !ok {
		return false, ok, err
	}
	s := strings.TrimSpace(string(b))
	return s == "FROZEN" || s == "FREEZING", true, nil
}
