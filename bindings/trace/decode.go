//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64) && linux

package trace

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
)

// The kinds as bpf/trace.bpf.c numbers them.
var kindOf = map[uint32]Kind{1: KindExec, 2: KindExit, 3: KindOOM, 4: KindConnect, 5: KindOpen}

// cstr is a NUL-terminated byte array as a string.
func cstr(b []uint8) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// decode turns one ring buffer record into an Event. A zero Kind means the
// event was filtered out here.
func (t *Tracer) decode(raw []byte) (Event, error) {
	h, err := view[bpfHdr](raw)
	if err != nil {
		return Event{}, err
	}
	kind, ok := kindOf[h.Kind]
	if !ok {
		return Event{}, fmt.Errorf("trace: record of unknown kind %d", h.Kind)
	}
	ev := Event{
		Kind:        kind,
		Time:        t.boot.Add(time.Duration(h.TimeNs)),
		ContainerID: cstr(h.Container[:]),
		CgroupID:    h.CgroupId,
		PID:         int(h.Pid),
		TID:         int(h.Tid),
		PIDInside:   int(h.PidInside),
		PPID:        int(h.Ppid),
		UID:         int(h.Uid),
		Comm:        cstr(h.Comm[:]),
	}
	ev.Container = t.name(ev.ContainerID)
	switch kind {
	case KindExec:
		var e *bpfExecEvent
		if e, err = view[bpfExecEvent](raw); err == nil {
			ev.Filename = cstr(e.Filename[:])
			n := min(int(e.ArgsLen), len(e.Args))
			ev.Argv = splitArgs(e.Args[:n])
			ev.ArgvTruncated = e.ArgsTruncated != 0
		}
	case KindExit:
		var e *bpfExitEvent
		if e, err = view[bpfExitEvent](raw); err == nil {
			decodeExit(&ev, e.ExitCode)
		}
	case KindOOM:
		var e *bpfOomEvent
		if e, err = view[bpfOomEvent](raw); err == nil {
			ev.ByPID = int(e.ByPid)
			ev.ByComm = cstr(e.ByComm[:])
			ev.OOMScoreAdj = int(e.OomScoreAdj)
			ev.Memcg = t.memcg(h.CgroupId)
		}
	case KindConnect:
		var e *bpfConnectEvent
		if e, err = view[bpfConnectEvent](raw); err == nil {
			decodeConnect(&ev, e)
		}
	case KindOpen:
		var e *bpfOpenEvent
		if e, err = view[bpfOpenEvent](raw); err == nil {
			ev.Path = cstr(e.Path[:])
			ev.Flags = int(e.Flags)
			if e.Ret >= 0 {
				ev.FD = int(e.Ret)
			} else {
				ev.FD = -1
				ev.Errno = errnoName(syscall.Errno(-e.Ret))
			}
			if t.o.PathMatch != nil && !t.o.PathMatch(ev.Path) {
				return Event{}, nil
			}
		}
	}
	if err != nil {
		return Event{}, fmt.Errorf("trace: %s record of %d bytes: %w", kind, len(raw), err)
	}
	return ev, nil
}

// view is the record as the C struct T (the generated types have the
// host's layout, and the ring buffer's records are 8-byte aligned).
func view[T any](raw []byte) (*T, error) {
	var zero T
	if uintptr(len(raw)) < unsafe.Sizeof(zero) {
		return nil, fmt.Errorf("trace: short record: %d bytes, want %d", len(raw), unsafe.Sizeof(zero))
	}
	return (*T)(unsafe.Pointer(unsafe.SliceData(raw))), nil
}

// splitArgs splits the NUL-separated argv of a process's memory.
func splitArgs(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return []string{}
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// decodeExit reads the kernel's exit code: the status in bits 8-15 when
// the process exited, else the signal in bits 0-6 and 0x80 for a core dump.
func decodeExit(ev *Event, code uint32) {
	if sig := int(code & 0x7f); sig != 0 {
		ev.Signal = sig
		ev.CoreDumped = code&0x80 != 0
		return
	}
	c := int(code>>8) & 0xff
	ev.Code = &c
}

const (
	tcpEstablished = 1
	afInet         = 2
	afInet6        = 10
)

func decodeConnect(ev *Event, e *bpfConnectEvent) {
	ev.Latency = time.Duration(e.LatencyNs)
	ev.SrcPort, ev.DstPort = int(e.Sport), int(e.Dport)
	switch e.Family {
	case afInet:
		ev.Family = "ipv4"
		ev.Src = netip.AddrFrom4([4]byte(e.Saddr[:4]))
		ev.Dst = netip.AddrFrom4([4]byte(e.Daddr[:4]))
	case afInet6:
		ev.Family = "ipv6"
		ev.Src = netip.AddrFrom16(e.Saddr).Unmap()
		ev.Dst = netip.AddrFrom16(e.Daddr).Unmap()
	default:
		ev.Family = fmt.Sprintf("family %d", e.Family)
	}
	switch {
	case e.Newstate == tcpEstablished:
		ev.Result = "established"
	case e.Err == int32(unix.ECONNREFUSED):
		ev.Result, ev.Errno = "refused", "ECONNREFUSED"
	case e.Err == int32(unix.ETIMEDOUT):
		ev.Result, ev.Errno = "timed out", "ETIMEDOUT"
	case e.Err != 0:
		ev.Errno = errnoName(syscall.Errno(e.Err))
		ev.Result = ev.Errno
	default:
		ev.Result = "closed" // given up before an answer (the socket was closed)
	}
}

// errnoName is an errno's symbolic name ("ENOENT"), or its number.
func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// name is the container's name from Options.Names, cached; the short id
// when it has none.
func (t *Tracer) name(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := t.names[id]; ok {
		return n
	}
	n := ""
	if t.o.Names != nil {
		n = t.o.Names(id)
	}
	if n == "" && len(id) >= 12 {
		n = id[:12]
	}
	t.names[id] = n
	return n
}

// memcg finds the path of the cgroup with this id in the memory hierarchy
// (the unified one on v2): the directory whose inode number is the id.
func (t *Tracer) memcg(id uint64) string {
	if p, ok := t.memcgs[id]; ok {
		return p
	}
	p := findCgroup(t.o.HostRoot, t.v2, id)
	t.memcgs[id] = p
	return p
}

func findCgroup(root string, v2 bool, id uint64) string {
	ms, err := cgroup.ReadMounts(root)
	if err != nil {
		return ""
	}
	top, err := ms.Open("/")
	if err != nil {
		return ""
	}
	dir, ok := top.Dir("memory")
	if v2 {
		dir, ok = top.Dir("")
	}
	if !ok {
		return ""
	}
	found, seen := "", 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if seen++; seen > 100000 {
			return filepath.SkipAll
		}
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil && st.Ino == id {
			rel, _ := filepath.Rel(dir, path)
			found = "/" + filepath.ToSlash(rel)
			if rel == "." {
				found = "/"
			}
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
