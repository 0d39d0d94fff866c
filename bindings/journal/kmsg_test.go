package journal

import (
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testID = "696631e3d0bb2c587b9ac635d058260be3381dfe46238de22c785e85ddd61e04"

// Canned /dev/kmsg records of OOM kills, as kernels print them.
var (
	// Linux 6.18 on this project's machine (the new format, from 4.19).
	newFormat = []string{
		"4,1801,918474400,-;tail invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=1000\n SUBSYSTEM=memory",
		"4,1802,918474420,-;CPU: 1 UID: 0 PID: 2369 Comm: tail Not tainted 6.18.44 #1 PREEMPT(voluntary)",
		"6,1803,918474500,-;memory: usage 32768kB, limit 32768kB, failcnt 140",
		"6,1804,918474654,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=" + testID + ",mems_allowed=0,oom_memcg=/docker/" + testID + ",task_memcg=/docker/" + testID + ",task=tail,pid=2369,uid=0",
		"3,1805,918474694,-;Memory cgroup out of memory: Killed process 2369 (tail) total-vm:34096kB, anon-rss:31872kB, file-rss:1260kB, shmem-rss:0kB, UID:0 pgtables:104kB oom_score_adj:1000",
		"6,1806,918480000,-;oom_reaper: reaped process 2369 (tail), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
	}
	// Linux 4.14 (before 4.19): the memcg line, then the kill.
	oldFormat = []string{
		"4,900,5123000000,-;java invoked oom-killer: gfp_mask=0x14000c0(GFP_KERNEL), nodemask=(null), order=0, oom_score_adj=0",
		"6,901,5123000100,-;Task in /docker/" + testID + " killed as a result of limit of /docker/" + testID,
		"6,902,5123000200,-;memory: usage 262144kB, limit 262144kB, failcnt 0",
		"3,903,5123000300,-;Memory cgroup out of memory: Kill process 4242 (java) score 1001 or sacrifice child",
		"3,904,5123000400,-;Killed process 4242 (java) total-vm:2690000kB, anon-rss:259000kB, file-rss:16000kB, shmem-rss:0kB",
	}
)

func u64(v uint64) *uint64 { return &v }

func TestOOMParser(t *testing.T) {
	cases := []struct {
		name    string
		records []string
		want    []KernelOOM
	}{
		{"new format", newFormat, []KernelOOM{{Seq: 1805, Mono: 918474694 * time.Microsecond, PID: 2369, Comm: "tail",
			Memcg: "/docker/" + testID, OOMMemcg: "/docker/" + testID, Constraint: "CONSTRAINT_MEMCG", AnonRSSKB: u64(31872)}}},
		{"old format", oldFormat, []KernelOOM{{Seq: 904, Mono: 5123000400 * time.Microsecond, PID: 4242, Comm: "java",
			Memcg: "/docker/" + testID, OOMMemcg: "/docker/" + testID, AnonRSSKB: u64(259000)}}},
		{"systemd layout, a hostile comm with the anchors inside it", []string{
			"6,10,100,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/docker-" + testID + ".scope,task_memcg=/system.slice/docker-" + testID + ".scope,task=a,pid=1,uid=0,pid=77,uid=0",
			"3,11,101,-;Memory cgroup out of memory: Killed process 77 (a,pid=1,uid=0) total-vm:10kB, anon-rss:5kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
		}, []KernelOOM{{Seq: 11, Mono: 101 * time.Microsecond, PID: 77, Comm: "a,pid=1,uid=0",
			Memcg: "/system.slice/docker-" + testID + ".scope", OOMMemcg: "/system.slice/docker-" + testID + ".scope",
			Constraint: "CONSTRAINT_MEMCG", AnonRSSKB: u64(5)}}},
		{"a comm holding ') total-vm:' (old format, no summary)", []string{
			"6,20,200,-;Task in /docker/" + testID + " killed as a result of limit of /docker/" + testID,
			"3,21,201,-;Killed process 9 (x) total-vm:1) total-vm:10kB, anon-rss:5kB, file-rss:0kB, shmem-rss:0kB",
		}, []KernelOOM{{Seq: 21, Mono: 201 * time.Microsecond, PID: 9, Comm: "x) total-vm:1",
			Memcg: "/docker/" + testID, OOMMemcg: "/docker/" + testID, AnonRSSKB: u64(5)}}},
		{"a host-wide OOM (global_oom), escaped comm", []string{
			"6,30,300,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task=evil\\x0a,pid=500,uid=1000",
			"3,31,301,-;Out of memory: Killed process 500 (evil\\x0a) total-vm:10kB, anon-rss:5kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4kB oom_score_adj:0",
		}, []KernelOOM{{Seq: 31, Mono: 301 * time.Microsecond, PID: 500, Comm: `evil\x0a`, Memcg: "/user.slice",
			Constraint: "CONSTRAINT_NONE", AnonRSSKB: u64(5)}}},
		{"a summary for another pid is not this kill's", []string{
			"6,40,400,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/docker/a,task_memcg=/docker/a,task=sh,pid=1,uid=0",
			"3,41,401,-;Killed process 2 (sh) total-vm:10kB, anon-rss:5kB, file-rss:0kB, shmem-rss:0kB",
		}, []KernelOOM{{Seq: 41, Mono: 401 * time.Microsecond, PID: 2, Comm: "sh", AnonRSSKB: u64(5)}}},
		{"no OOM at all", []string{"6,50,500,-;eth0: link up", "bogus record"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p oomParser
			var got []KernelOOM
			for _, s := range c.records {
				rec, err := parseKmsgRecord(s)
				if err != nil {
					continue
				}
				if k := p.feed(rec); k != nil {
					got = append(got, *k)
				}
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("kills (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseKmsgRecord(t *testing.T) {
	rec, err := parseKmsgRecord("6,1804,918474654,-;hello\n SUBSYSTEM=memory\n")
	if err != nil || rec.Seq != 1804 || rec.Mono != 918474654*time.Microsecond || rec.Message != "hello" {
		t.Errorf("parseKmsgRecord = %+v, %v", rec, err)
	}
	for _, bad := range []string{"no semicolon", "6,x,1,-;m", "6,1,y,-;m", "6;m"} {
		if _, err := parseKmsgRecord(bad); err == nil {
			t.Errorf("parseKmsgRecord(%q): no error", bad)
		}
	}
	if got := unescapeKmsg(`evil\x0a\x5cx`); got != "evil\n\\x" {
		t.Errorf("unescapeKmsg = %q", got)
	}
}

// cannedKmsg is a KmsgReader over canned records; it blocks at the end
// until closed, as /dev/kmsg does.
type cannedKmsg struct {
	records []string
	closed  chan struct{}
}

func newCannedKmsg(records ...string) *cannedKmsg {
	return &cannedKmsg{records: records, closed: make(chan struct{})}
}

func (c *cannedKmsg) ReadRecord() (string, error) {
	if len(c.records) > 0 {
		r := c.records[0]
		c.records = c.records[1:]
		return r, nil
	}
	<-c.closed
	return "", io.EOF
}

func (c *cannedKmsg) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}
