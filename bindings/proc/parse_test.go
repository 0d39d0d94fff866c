package proc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want stat
		bad  bool
	}{
		{in: "2543 (sleep) S 2500 2543 2543 0 -1 4194560 120 0 0 0 12 3 0 0 20 0 1 0 500000 4505600 150 18446744073709551615 1 1 0",
			want: stat{Comm: "sleep", State: "S", PPID: 2500, UTime: 12, STime: 3, Threads: 1, StartTime: 500000, RSSPages: 150}},
		{in: "3000 (my (odd) proc) R 1 3000 3000 0 -1 4194560 120 0 0 0 7 8 0 0 20 0 4 0 9 4505600 10 18446744073709551615",
			want: stat{Comm: "my (odd) proc", State: "R", PPID: 1, UTime: 7, STime: 8, Threads: 4, StartTime: 9, RSSPages: 10}},
		{in: "7 () Z 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0",
			want: stat{Comm: "", State: "Z", PPID: 1, Threads: 1, StartTime: 5}},
		{in: "9 (tabs) S\t1 9 9 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 7 0 3\n",
			want: stat{Comm: "tabs", State: "S", PPID: 1, UTime: 5, STime: 6, Threads: 2, StartTime: 7, RSSPages: 3}},
		{in: "", bad: true},
		{in: "1 (x) S 0 1", bad: true},
		{in: "1 (x) S zero 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0", bad: true},
	} {
		got, err := parseStat([]byte(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("parseStat(%q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseStat(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseStat(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseStatus(t *testing.T) {
	in := "Name:\tsleep\nState:\tS (sleeping)\nPPid:\t2500\nUid:\t0\t33\t33\t33\nGid:\t1\t2\t3\t4\nNSpid:\t2543\t17\t1\nThreads:\t3\nVmRSS:\t     600 kB\n"
	s, err := parseStatus([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.PPID != 2500 || s.UID != [4]int{0, 33, 33, 33} || s.GID != [4]int{1, 2, 3, 4} || s.Threads != 3 || s.State != "S" {
		t.Errorf("parseStatus: %+v", s)
	}
	if diff := cmp.Diff([]int{2543, 17, 1}, s.NSpid); diff != "" {
		t.Errorf("NSpid (-want +got):\n%s", diff)
	}
	if len(s.Lines) != 8 || s.Lines[7] != [2]string{"VmRSS", "600 kB"} {
		t.Errorf("lines: %q", s.Lines)
	}
	// Kernels before 4.1 have no NSpid.
	s, err = parseStatus([]byte("Name:\tx\nUid:\t0\t0\t0\t0\n"))
	if err != nil || s.NSpid != nil {
		t.Errorf("no NSpid: %v, %v", s.NSpid, err)
	}
	if _, err := parseStatus([]byte("Uid:\t0\t0\n")); err == nil {
		t.Error("a short Uid line was accepted")
	}
	for in, want := range map[string]any{"600 kB": uint64(614400), "3": int64(3), "S (sleeping)": "S (sleeping)", "0-1": "0-1"} {
		if got := statusValue(in); got != want {
			t.Errorf("statusValue(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func TestContainerOf(t *testing.T) {
	const id = "3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
	const other = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ path, id, runtime string }{
		{"/docker/" + id, id, "docker"},
		{"/system.slice/docker-" + id + ".scope", id, "docker"},
		{"/kubepods/burstable/pod8d4c1f2a-5b6e-4f70-9a81-0c2d3e4f5a6b/" + id, id, "containerd"},
		{"/kubepods/pod8d4c1f2a/" + id, id, "containerd"},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-" + id + ".scope", id, "containerd"},
		{"/kubepods-burstable-pod1.slice:cri-containerd:" + id, id, "containerd"},
		{"/kubepods.slice/kubepods-pod1.slice/docker-" + id + ".scope", id, "docker"},
		{"/machine.slice/libpod-" + id + ".scope", id, "podman"},
		{"/machine.slice/libpod-" + id + ".scope/container", id, "podman"},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope", id, "podman"},
		{"/libpod_parent/libpod-" + id, id, "podman"},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/crio-" + id + ".scope", id, "crio"},
		{"/kubepods/besteffort/pod1/crio-" + id, id, "crio"},
		{"/system.slice/nerdctl-" + id + ".scope", id, "containerd"},
		{"/docker/" + other + "/docker/" + id, id, "docker"}, // docker in docker: the inner one
		// No container: runtimes' helpers, hosts, pods without a container, odd names.
		{"/machine.slice/libpod-conmon-" + id + ".scope", "", ""},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/crio-conmon-" + id + ".scope", "", ""},
		{"/system.slice/containerd.service", "", ""},
		{"/system.slice/docker.service", "", ""},
		{"/kubepods/burstable/pod8d4c1f2a-5b6e-4f70-9a81-0c2d3e4f5a6b", "", ""},
		{"/", "", ""},
		{"/user.slice/user-0.slice/session-1.scope", "", ""},
		{"/" + id, "", ""},             // a bare id under no known parent
		{"/custom/" + id, "", ""},      // --cgroup-parent=/custom: the runtime is not known
		{"/docker/" + id[:63], "", ""}, // not an id
		{"/docker/" + strings64("G"), "", ""},
		{"/system.slice/docker-" + id + ".scope.bak", "", ""},
	} {
		gotID, gotRT := containerOf(tc.path)
		if gotID != tc.id || gotRT != tc.runtime {
			t.Errorf("containerOf(%q) = %q, %q; want %q, %q", tc.path, gotID, gotRT, tc.id, tc.runtime)
		}
	}
}

func strings64(c string) string {
	s := ""
	for len(s) < 64 {
		s += c
	}
	return s
}

func TestContainerOfLines(t *testing.T) {
	const id = "3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
	// A hybrid host: the unified line names the container too.
	lines := parseCgroup([]byte("12:pids:/docker/" + id + "\n1:name=systemd:/docker/" + id + "\n0::/docker/" + id + "\n"))
	if got, rt := containerOfLines(lines); got != id || rt != "docker" {
		t.Errorf("hybrid: %q %q", got, rt)
	}
	lines = parseCgroup([]byte("0::/\n"))
	if got, _ := containerOfLines(lines); got != "" {
		t.Errorf("host: %q", got)
	}
}

func TestParsePasswd(t *testing.T) {
	got := parsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nwww-data:x:33:33::/:/bin/false\ntoor:x:0:0::/:/bin/sh\n"))
	want := map[int]string{0: "root", 33: "www-data"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsePasswd (-want +got):\n%s", diff)
	}
}

func TestSplitNUL(t *testing.T) {
	for in, want := range map[string][]string{
		"":                  {},
		"sleep\x001000\x00": {"sleep", "1000"},
		"a\x00\x00b\x00":    {"a", "", "b"},
		"no-nul":            {"no-nul"},
	} {
		if diff := cmp.Diff(want, splitNUL([]byte(in))); diff != "" {
			t.Errorf("splitNUL(%q) (-want +got):\n%s", in, diff)
		}
	}
}

// joinCmdline, c:top's command line, is the arguments of splitNUL joined
// by spaces.
func TestJoinCmdline(t *testing.T) {
	for _, in := range []string{"", "\x00", "sleep\x001000\x00", "a\x00\x00b\x00", "no-nul", "a\x00\x00", "x\x00y", "tab\tnew\nline\x00\xff\x00"} {
		want := strings.Join(splitNUL([]byte(in)), " ")
		if got := joinCmdline([]byte(in)); got != want {
			t.Errorf("joinCmdline(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusIDs(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		uid, inside, depth int
	}{
		{in: "Name:\tsleep\nUid:\t0\t33\t33\t33\nGid:\t0\t0\t0\t0\nNSpid:\t2543\t17\t1\nThreads:\t1\n", uid: 33, inside: 1, depth: 3},
		{in: "Uid:\t1000\t1000\t1000\t1000\nNSpid:\t2543\n", uid: 1000, inside: 2543, depth: 1},
		{in: "Name:\tx\nUid:\t5\t6\t7\t8\n", uid: 6, inside: 2543, depth: 1}, // no NSpid before 4.1
		{in: "Uid:\t5\nNSpid:\t\n", uid: 0, inside: 2543, depth: 1},
	} {
		uid, inside, depth := statusIDs([]byte(tc.in), 2543)
		if uid != tc.uid || inside != tc.inside || depth != tc.depth {
			t.Errorf("statusIDs(%q) = %d, %d, %d, want %d, %d, %d", tc.in, uid, inside, depth, tc.uid, tc.inside, tc.depth)
		}
	}
}

func TestParseBootTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		bad  bool
	}{
		{in: "cpu  1 2 3\nintr 5 0\nctxt 9\nbtime 1700000000\nprocesses 3\n", want: 1700000000},
		{in: "btime 42", want: 42},
		{in: "cpu 1 2 3\n", bad: true},
		{in: "btime soon\n", bad: true},
		{in: "", bad: true},
	} {
		got, err := parseBootTime([]byte(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("parseBootTime(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseBootTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
