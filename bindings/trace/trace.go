// Package trace is the trace module of ctrsh: what the processes of a
// container do, live, from the kernel — the programs they execute, how they
// exit, which one the OOM killer picks, where they connect and what they
// open — with eBPF programs on tracepoints (bpf/trace.bpf.c, CO-RE, built by
// bpf2go; the objects are committed).
//
// The programs find each task's container from its cgroup in the kernel and
// drop what is not wanted there, so the host's own activity costs one map
// lookup per event and never reaches user space. Events come through one
// ring buffer; what does not fit is counted in the kernel and reported as an
// Event of Kind KindLost, never dropped silently.
package trace

import (
	"errors"
	"net/netip"
	"time"
)

// Kind is what an Event reports.
type Kind string

const (
	KindExec    Kind = "exec"    // a process executed a program (sched:sched_process_exec)
	KindExit    Kind = "exit"    // a process ended (sched:sched_process_exit, its last thread)
	KindOOM     Kind = "oom"     // the OOM killer chose a victim (oom:mark_victim)
	KindConnect Kind = "connect" // a TCP connection attempt resolved (sock:inet_sock_set_state)
	KindOpen    Kind = "open"    // a file was opened (syscalls:sys_{enter,exit}_{openat,open,openat2})
	KindLost    Kind = "lost"    // events the kernel could not queue (the ring buffer was full)
)

// Kinds are the kinds a trace can ask for.
var Kinds = []Kind{KindExec, KindExit, KindOOM, KindConnect, KindOpen}

// ErrUnavailable is wrapped by errors saying this kernel (or this process)
// cannot trace: no BPF, no BTF, not root.
var ErrUnavailable = errors.New("tracing not available")

// Event is one thing a traced process did. The common fields are set for
// every kind; the others only for theirs.
type Event struct {
	Kind        Kind
	Time        time.Time
	ContainerID string // the full id found in the cgroup's name
	Container   string // its name, when Options.Names knows it; else the short id
	CgroupID    uint64 // the cgroup the task was attributed by (memory controller on v1)
	PID         int    // the process (thread group) as the host sees it
	TID         int
	PIDInside   int // the process in its own pid namespace
	PPID        int // the parent process, as the host sees it
	UID         int
	Comm        string

	// Exec
	Filename      string   // the program as execve was given it
	Argv          []string // from the new program's memory
	ArgvTruncated bool

	// Exit: Code is set when the process exited, Signal when a signal killed it.
	Code       *int
	Signal     int
	CoreDumped bool

	// OOM: the victim is PID/Comm; By* is the task whose allocation invoked
	// the OOM killer.
	ByPID       int
	ByComm      string
	OOMScoreAdj int
	Memcg       string // the victim's memory cgroup ("/docker/<id>"), when found

	// Connect
	Family   string // "ipv4", "ipv6"
	Src, Dst netip.Addr
	SrcPort  int
	DstPort  int
	Result   string        // "established", "refused", "timed out", or the error's name
	Latency  time.Duration // from connect(2) to the outcome

	// Open
	Path  string
	Flags int
	FD    int    // the result when >= 0
	Errno string // the error's name ("ENOENT", "ECONNREFUSED") when an open or connect failed

	// Lost: how many events the kernel dropped since the last report.
	Lost uint64
}

// Options choose what a Tracer reports.
type Options struct {
	Kinds []Kind
	// Containers are the full ids of the containers to trace; none means
	// every container.
	Containers []string
	// PathPrefix limits Open to paths starting with it, in the kernel (up
	// to 63 bytes; longer prefixes are cut there and checked again here).
	PathPrefix string
	// PathMatch, when set, keeps only the Open events whose path it
	// accepts (the rest of a pattern whose literal prefix is PathPrefix).
	PathMatch func(path string) bool
	// BufferSize is the ring buffer's size in bytes: a power of two, at
	// least one page (default 1 MiB).
	BufferSize int
	// BTFPath is the kernel's BTF (default /sys/kernel/btf/vmlinux).
	BTFPath string
	// HostRoot is where /sys and /proc are ("/" by default).
	HostRoot string
	// Names gives a container's name from its id (the docker engine's); nil
	// or "" leaves the short id.
	Names func(id string) string
	// Notice receives one-line notes for the user (tracefs mounted).
	Notice func(msg string)
}

// unavailableError is a reason this kernel or process cannot trace: its
// message is the reason alone, and it matches ErrUnavailable.
type unavailableError struct {
	msg string
	err error
}

func (e *unavailableError) Error() string   { return e.msg }
func (e *unavailableError) Unwrap() []error { return []error{e.err, ErrUnavailable} }
