package cgroup

import (
	"fmt"
	"strconv"
	"strings"
)

// IO is the block io of a cgroup, summed over devices. nil: not available.
type IO struct {
	ReadBytes, WriteBytes *uint64
	ReadOps, WriteOps     *uint64
}

// IO reads v1 blkio.throttle.io_service_bytes_recursive (or its
// non-recursive or CFQ forms) and io_serviced, or v2 io.stat.
func (c *Cgroup) IO() (*IO, error) {
	if c.Version == 2 {
		return c.ioV2()
	}
	out := &IO{}
	var err error
	out.ReadBytes, out.WriteBytes, err = c.blkio("io_service_bytes")
	if err != nil {
		return nil, err
	}
	out.ReadOps, out.WriteOps, err = c.blkio("io_serviced")
	if err != nil {
		return nil, err
	}
	return out, nil
}

// blkio sums the Read and Write lines ("8:0 Read 4096") of the first of
// the v1 files that the kernel has.
func (c *Cgroup) blkio(what string) (read, write *uint64, err error) {
	for _, name := range []string{
		"blkio.throttle." + what + "_recursive", "blkio.throttle." + what,
		"blkio." + what + "_recursive", "blkio." + what,
	} {
		b, ok, err := c.read("blkio", name)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		r, w, err := parseBlkio(b)
		if err != nil {
			return nil, nil, fmt.Errorf("cgroup %s: %s: %w", c.Path, name, err)
		}
		return &r, &w, nil
	}
	return nil, nil, nil
}

func parseBlkio(b []byte) (read, write uint64, err error) {
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue // "Total N" and blank lines
		}
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("line %q: %w", line, err)
		}
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write, nil
}

func (c *Cgroup) ioV2() (*IO, error) {
	b, ok, err := c.read("", "io.stat")
	if err != nil {
		return nil, err
	}
	if !ok {
		return &IO{}, nil
	}
	return parseIOStat(b)
}

// parseIOStat sums "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" lines.
func parseIOStat(b []byte) (*IO, error) {
	var rb, wb, ro, wo uint64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		for _, kv := range f[min(1, len(f)):] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("io.stat: %q: %w", kv, err)
			}
			switch k {
			case "rbytes":
				rb += n
			case "wbytes":
				wb += n
			case "rios":
				ro += n
			case "wios":
				wo += n
			}
		}
	}
	return &IO{ReadBytes: &rb, WriteBytes: &wb, ReadOps: &ro, WriteOps: &wo}, nil
}
