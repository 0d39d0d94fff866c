package journal

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// KmsgReader returns the kernel's log records one at a time, as
// /dev/kmsg gives them: "PRIORITY,SEQ,TIMESTAMP_US,FLAGS;MESSAGE" followed
// by continuation lines. Tests feed canned records through it.
type KmsgReader interface {
	ReadRecord() (string, error)
	Close() error
}

// devKmsg reads /dev/kmsg: one record per read(2).
type devKmsg struct {
	f   *os.File
	buf []byte
}

// OpenKmsg opens /dev/kmsg below root at its oldest record.
func OpenKmsg(root string) (KmsgReader, error) {
	f, err := os.Open(strings.TrimSuffix(root, "/") + "/dev/kmsg")
	if err != nil {
		return nil, err
	}
	return &devKmsg{f: f, buf: make([]byte, 8192)}, nil
}

func (k *devKmsg) ReadRecord() (string, error) {
	for {
		n, err := k.f.Read(k.buf)
		if errors.Is(err, syscall.EPIPE) {
			continue // records were overwritten before we read them: go on with the next
		}
		if err != nil {
			return "", err
		}
		return string(k.buf[:n]), nil
	}
}

func (k *devKmsg) Close() error { return k.f.Close() }

// KmsgRecord is one record of the kernel's log.
type KmsgRecord struct {
	Seq     uint64
	Mono    time.Duration // since boot (the kernel's printk clock)
	Message string        // the first line, with the kernel's \xNN escapes as they are
}

// parseKmsgRecord reads a /dev/kmsg record.
func parseKmsgRecord(s string) (KmsgRecord, error) {
	head, msg, ok := strings.Cut(s, ";")
	if !ok {
		return KmsgRecord{}, fmt.Errorf("kmsg record %q: no ';'", trim(s))
	}
	f := strings.Split(head, ",")
	if len(f) < 3 {
		return KmsgRecord{}, fmt.Errorf("kmsg record %q: %d header fields, want 4", trim(s), len(f))
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return KmsgRecord{}, fmt.Errorf("kmsg record %q: sequence: %w", trim(s), err)
	}
	us, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return KmsgRecord{}, fmt.Errorf("kmsg record %q: timestamp: %w", trim(s), err)
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // continuation lines (" SUBSYSTEM=...") carry no OOM facts
	}
	return KmsgRecord{Seq: seq, Mono: time.Duration(us) * time.Microsecond, Message: msg}, nil
}

func trim(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// KernelOOM is one OOM kill read from the kernel's log.
type KernelOOM struct {
	Seq   uint64
	Mono  time.Duration
	PID   int
	Comm  string
	Memcg string // the victim's memory cgroup ("" when the log did not say)
	// OOMMemcg is the cgroup whose limit was hit (new format), or the
	// "limit of" cgroup (old format).
	OOMMemcg   string
	Constraint string // CONSTRAINT_MEMCG, CONSTRAINT_NONE, ... (new format)
	AnonRSSKB  *uint64
}

// The kernel has written an OOM kill two ways:
//
// before 4.19 (the memcg line, then the kill):
//
//	Task in /docker/ID killed as a result of limit of /docker/ID
//	Memory cgroup out of memory: Kill process 1234 (tail) score 1000 or sacrifice child
//	Killed process 1234 (tail) total-vm:209632kB, anon-rss:32412kB, file-rss:4kB, shmem-rss:0kB
//
// from 4.19 (one summary line, then the kill):
//
//	oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=ID,mems_allowed=0,oom_memcg=/docker/ID,task_memcg=/docker/ID,task=tail,pid=1234,uid=0
//	Memory cgroup out of memory: Killed process 1234 (tail) total-vm:209632kB, anon-rss:32412kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:460kB oom_score_adj:1000
//
// The victim's name comes from a container and may hold anything the
// kernel lets a comm hold (commas, parentheses, "pid="): the patterns
// anchor on what the kernel writes after it, and greedy matches take the
// last such anchor, which is the kernel's.
//
// They are compiled on first use: only the journal recorder reads the
// kernel log, and every other ctrsh run would pay for them at start.
var (
	oomSummaryRE = lazyRegexp(`^oom-kill:constraint=([^,]*),.*?(?:oom_memcg=(.*?)|global_oom),task_memcg=(.*?),task=(.*),pid=(\d+),uid=(\d+)$`)
	oomTaskInRE  = lazyRegexp(`^Task in (.*) killed as a result of limit of (.*)$`)
	oomKilledRE  = lazyRegexp(`Killed process (\d+) \((.*)\) total-vm:\d+kB, anon-rss:(\d+)kB`)
)

// lazyRegexp returns a function that compiles expr the first time it is
// called and returns the same *regexp.Regexp from then on.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// oomParser turns kernel log messages into OOM kills. It remembers the
// summary (or "Task in") line until the "Killed process" line that ends a
// kill.
type oomParser struct {
	summary *KernelOOM // from the oom-kill: line
	taskIn  [2]string  // from the "Task in" line: task memcg, limit memcg
}

// feed reads one record's message; it returns the kill that the message
// completes, or nil.
func (p *oomParser) feed(rec KmsgRecord) *KernelOOM {
	msg := rec.Message
	if m := oomSummaryRE().FindStringSubmatch(msg); m != nil {
		pid, _ := strconv.Atoi(m[5])
		p.summary = &KernelOOM{Constraint: m[1], OOMMemcg: m[2], Memcg: m[3], Comm: m[4], PID: pid}
		return nil
	}
	if m := oomTaskInRE().FindStringSubmatch(msg); m != nil {
		p.taskIn = [2]string{m[1], m[2]}
		return nil
	}
	m := oomKilledRE().FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	pid, _ := strconv.Atoi(m[1])
	k := &KernelOOM{Seq: rec.Seq, Mono: rec.Mono, PID: pid, Comm: m[2]}
	if kb, err := strconv.ParseUint(m[3], 10, 64); err == nil {
		k.AnonRSSKB = &kb
	}
	if s := p.summary; s != nil && s.PID == pid {
		k.Memcg, k.OOMMemcg, k.Constraint = s.Memcg, s.OOMMemcg, s.Constraint
		k.Comm = s.Comm // the summary's comm is not cut by a ") total-vm" inside it
	} else if p.taskIn[0] != "" {
		k.Memcg, k.OOMMemcg = p.taskIn[0], p.taskIn[1]
	}
	p.summary, p.taskIn = nil, [2]string{}
	return k
}

// unescapeKmsg undoes the kernel's \xNN escapes of non-printable bytes.
func unescapeKmsg(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
