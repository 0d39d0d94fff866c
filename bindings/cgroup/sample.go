package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Sample is what a live view (ctrsh top) shows of a cgroup, read from as
// few files as that takes, so that a refresh of a hundred containers stays
// cheap. -1 is unknown: the kernel has no such file (or, for MemLimit, no
// limit).
type Sample struct {
	MemUsage   int64 // v1 memory.usage_in_bytes, v2 memory.current
	MemLimit   int64 // v1 memory.limit_in_bytes, v2 memory.max; -1 when unlimited
	WorkingSet int64 // usage less inactive file pages (docker stats' figure)
	OOMKills   int64 // oom_kill of v1 memory.oom_control, v2 memory.events
	CPUNs      int64 // v1 cpuacct.usage, v2 usage_usec of cpu.stat (in ns)
	Pids       int64 // pids.current
	ReadBytes  int64 // summed over devices: v1 blkio, v2 io.stat
	WriteBytes int64
}

// Sampler reads the Samples of one cgroup: its directories are found
// once, and each file is opened once and read again from its start with
// pread (the kernel makes a cgroup file anew at each read from offset 0),
// so a refresh costs a read per file and no path lookup. Close closes the
// files.
type Sampler struct {
	c                     *Cgroup
	mem, cpu, pids, blkio string // directories; "" when not mounted
	blkioFile             string // the v1 blkio file this kernel has, once found
	fds                   map[string]int
	buf                   []byte
}

// Sampler returns a Sampler of c.
func (c *Cgroup) Sampler() *Sampler {
	s := &Sampler{c: c, buf: make([]byte, 8192), fds: map[string]int{}}
	dir := func(ctrl string) string {
		d, _ := c.Dir(ctrl)
		return d
	}
	if c.Version == 2 {
		d := dir("")
		s.mem, s.cpu, s.pids, s.blkio = d, d, d, d
	} else {
		s.mem, s.cpu, s.pids, s.blkio = dir("memory"), dir("cpuacct"), dir("pids"), dir("blkio")
	}
	return s
}

// Close closes the Sampler's files.
func (s *Sampler) Close() {
	for path, fd := range s.fds {
		unix.Close(fd)
		delete(s.fds, path)
	}
}

// errGone is returned by readFile when the file's cgroup is gone.
var errGone = errors.New("gone")

// readFile reads dir/name into the buffer: nil when the file is not there
// (or the kernel will not give it: a disabled controller).
func (s *Sampler) readFile(dir, name string) ([]byte, error) {
	if dir == "" {
		return nil, nil
	}
	path := filepath.Join(dir, name)
	if fd, ok := s.fds[path]; ok {
		if b, err := s.pread(fd); err == nil {
			return b, nil
		}
		// The cgroup was removed (and maybe made again): open anew.
		unix.Close(fd)
		delete(s.fds, path)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			// Gone when the memory controller's directory (the unified
			// one on v2) is; another controller may just not be there.
			var st unix.Stat_t
			if s.mem != "" && unix.Stat(s.mem, &st) == unix.ENOENT {
				return nil, errGone
			}
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b, err := s.pread(fd)
	if err != nil {
		unix.Close(fd)
		if err == unix.ENODEV {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.fds[path] = fd
	return b, nil
}

// pread reads the whole of fd from its start into the buffer.
func (s *Sampler) pread(fd int) ([]byte, error) {
	n := 0
	for {
		if n == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		m, err := unix.Pread(fd, s.buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return s.buf[:n], nil
		}
		n += m
	}
}

// Read reads a Sample. The error wraps ErrNoCgroup when the cgroup is gone
// (the container stopped).
func (s *Sampler) Read() (Sample, error) {
	var (
		sm  Sample
		err error
	)
	if s.c.Version == 2 {
		err = s.readV2(&sm)
	} else {
		err = s.readV1(&sm)
	}
	if errors.Is(err, errGone) {
		return sm, fmt.Errorf("cgroup %s: %w", s.c.Path, ErrNoCgroup)
	}
	if err != nil {
		return sm, fmt.Errorf("cgroup %s: %w", s.c.Path, err)
	}
	return sm, nil
}

func (s *Sampler) readV1(sm *Sample) error {
	steps := []sampleStep{
		{s.mem, "memory.usage_in_bytes", func(b []byte) { sm.MemUsage = atoi(b) }},
		{s.mem, "memory.limit_in_bytes", func(b []byte) { sm.MemLimit = limit(atoi(b), 1<<62) }},
		{s.mem, "memory.stat", func(b []byte) {
			sm.WorkingSet = workingSetOf(sm.MemUsage, kvFirst(b, "total_inactive_file", "inactive_file"))
		}},
		{s.mem, "memory.oom_control", func(b []byte) { sm.OOMKills = kv(b, "oom_kill") }},
		{s.cpu, "cpuacct.usage", func(b []byte) { sm.CPUNs = atoi(b) }},
		{s.pids, "pids.current", func(b []byte) { sm.Pids = atoi(b) }},
	}
	if err := s.run(sm, steps); err != nil {
		return err
	}
	return s.blkioV1(sm)
}

func (s *Sampler) readV2(sm *Sample) error {
	steps := []sampleStep{
		{s.mem, "memory.current", func(b []byte) { sm.MemUsage = atoi(b) }},
		{s.mem, "memory.max", func(b []byte) { sm.MemLimit = atoi(b) }},
		{s.mem, "memory.stat", func(b []byte) { sm.WorkingSet = workingSetOf(sm.MemUsage, kv(b, "inactive_file")) }},
		{s.mem, "memory.events", func(b []byte) { sm.OOMKills = kv(b, "oom_kill") }},
		{s.cpu, "cpu.stat", func(b []byte) {
			if us := kv(b, "usage_usec"); us >= 0 {
				sm.CPUNs = us * 1000
			}
		}},
		{s.pids, "pids.current", func(b []byte) { sm.Pids = atoi(b) }},
		{s.blkio, "io.stat", func(b []byte) { sm.ReadBytes, sm.WriteBytes = ioStatBytes(b) }},
	}
	return s.run(sm, steps)
}

// sampleStep is a file of a Sample and what to do with its bytes.
type sampleStep struct {
	dir, name string
	parse     func([]byte)
}

// run reads each file and parses it; every figure starts unknown.
func (s *Sampler) run(sm *Sample, steps []sampleStep) error {
	*sm = Sample{-1, -1, -1, -1, -1, -1, -1, -1}
	for _, st := range steps {
		b, err := s.readFile(st.dir, st.name)
		if err != nil {
			return err
		}
		if b != nil {
			st.parse(b)
		}
	}
	return nil
}

// blkioV1 reads the first of the v1 blkio files the kernel has.
func (s *Sampler) blkioV1(sm *Sample) error {
	names := []string{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes",
		"blkio.io_service_bytes_recursive", "blkio.io_service_bytes"}
	if s.blkioFile != "" {
		names = []string{s.blkioFile}
	}
	for _, name := range names {
		b, err := s.readFile(s.blkio, name)
		if err != nil {
			return err
		}
		if b != nil {
			s.blkioFile = name
			r, w, err := parseBlkio(b)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			sm.ReadBytes, sm.WriteBytes = int64(r), int64(w)
			return nil
		}
	}
	return nil
}

// atoi reads a file holding one number; "max" and anything else that is
// not one is -1.
func atoi(b []byte) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// limit is -1 for a v1 limit at or above unlimited.
func limit(n, unlimited int64) int64 {
	if n >= unlimited {
		return -1
	}
	return n
}

// kv finds "key value" in a flat-keyed file; -1 when absent.
func kv(b []byte, key string) int64 {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) > len(key) && line[len(key)] == ' ' && string(line[:len(key)]) == key {
			return atoi(line[len(key)+1:])
		}
	}
	return -1
}

func kvFirst(b []byte, keys ...string) int64 {
	for _, k := range keys {
		if v := kv(b, k); v >= 0 {
			return v
		}
	}
	return -1
}

func workingSetOf(usage, inactive int64) int64 {
	switch {
	case usage < 0:
		return -1
	case inactive < 0:
		return usage
	case inactive > usage:
		return 0
	}
	return usage - inactive
}

// ioStatBytes sums rbytes= and wbytes= over v2 io.stat's devices.
func ioStatBytes(b []byte) (read, write int64) {
	io, err := parseIOStat(b)
	if err != nil || io.ReadBytes == nil {
		return -1, -1
	}
	return int64(*io.ReadBytes), int64(*io.WriteBytes)
}
