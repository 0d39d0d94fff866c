package proc_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// layouts: each tree, its container's id and runtime, and the PID of the
// runtime's helper beside it (shim or conmon), which must have no id.
var layouts = []struct {
	tree, id, runtime string
}{
	{"cgroupv1-cgroupfs", trees.ID("docker-web"), "docker"},
	{"cgroupv1-systemd", trees.ID("docker-web"), "docker"},
	{"cgroupv2-systemd", trees.ID("docker-web"), "docker"},
	{"cgroupv2-cgroupfs", trees.ID("docker-web"), "docker"},
	{"hybrid", trees.ID("docker-web"), "docker"},
	{"cgroupv1-old", trees.ID("docker-web"), "docker"},
	{"cgroupv2-nopeak", trees.ID("docker-web"), "docker"},
	{"kubepods-containerd", trees.ID("k8s-app"), "containerd"},
	{"podman", trees.ID("podman-web"), "podman"},
	{"crio", trees.ID("crio-web"), "crio"},
}

func TestFixtureLayouts(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.tree, func(t *testing.T) {
			fs, err := proc.NewFS(trees.Unpack(t, l.tree))
			if err != nil {
				t.Fatal(err)
			}
			p, err := fs.Get(2543)
			if err != nil {
				t.Fatal(err)
			}
			if p.ContainerID != l.id || p.Runtime != l.runtime {
				t.Errorf("container of 2543: %q %q, want %q %q", p.ContainerID, p.Runtime, l.id, l.runtime)
			}
			if id, rt, err := fs.ContainerOf(2543); id != l.id || rt != l.runtime || err != nil {
				t.Errorf("ContainerOf(2543): %q %q %v, want %q %q", id, rt, err, l.id, l.runtime)
			}
			if id, _, err := fs.ContainerOf(1); id != "" || err != nil {
				t.Errorf("ContainerOf(1): %q %v, want no container", id, err)
			}
			if _, _, err := fs.ContainerOf(999999); !errors.Is(err, proc.ErrNoProcess) {
				t.Errorf("ContainerOf(999999): %v, want ErrNoProcess", err)
			}
			if diff := cmp.Diff([]int{2543, 1}, p.NSpid); diff != "" || p.PIDInside() != 1 {
				t.Errorf("nspid (-want +got):\n%s", diff)
			}
			if p.PPID != 2500 || p.Comm != "sleep" || p.State != "S" || p.Threads != 1 {
				t.Errorf("2543: %+v", p)
			}
			if diff := cmp.Diff([]string{"sleep", "1000"}, p.Cmdline); diff != "" {
				t.Errorf("cmdline (-want +got):\n%s", diff)
			}
			// btime 1700000000 + 500000 ticks; 12+3 ticks of cpu; 150 pages.
			if p.StartTime != 1700005000 || p.CPUSeconds != 0.15 || p.RSS != 150*uint64(os.Getpagesize()) {
				t.Errorf("start %v cpu %v rss %v", p.StartTime, p.CPUSeconds, p.RSS)
			}
			env, err := fs.Environ(2543)
			if err != nil || len(env) != 3 || env[1][:9] != "HOSTNAME=" {
				t.Errorf("environ: %q, %v", env, err)
			}
			for _, pid := range []int{1, 2, 2500, 4242} {
				q, err := fs.Get(pid)
				if err != nil {
					t.Fatal(err)
				}
				if q.ContainerID != "" || q.Runtime != "" {
					t.Errorf("process %d (%s) got container %q %q", pid, q.Comm, q.ContainerID, q.Runtime)
				}
			}
			self, err := fs.Self()
			if err != nil || self != 4242 {
				t.Errorf("self: %d, %v", self, err)
			}

			rows, err := fs.Top(context.Background(), l.id[:12])
			if err != nil {
				t.Fatal(err)
			}
			want := []proc.TopRow{
				{PID: 2543, PIDInside: 1, PPID: 2500, PPIDInside: 0, UID: 0, User: "root", Comm: "sleep", Cmd: "sleep 1000", State: "S", RSS: 150 * uint64(os.Getpagesize()), CPUSeconds: 0.15},
				{PID: 2600, PIDInside: 7, PPID: 2543, PPIDInside: 1, UID: 33, User: "www-data", Comm: "sh", Cmd: "sh -c while true; do sleep 1; done", State: "S", RSS: 300 * uint64(os.Getpagesize()), CPUSeconds: 3},
			}
			if l.tree == "cgroupv1-cgroupfs" {
				want = append(want, proc.TopRow{PID: 3200, PIDInside: 9, PPID: 2543, PPIDInside: 1, User: "root", Comm: "defunct", Cmd: "[defunct]", State: "Z", CPUSeconds: 0.15})
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("top (-want +got):\n%s", diff)
			}
			byPIDs, err := fs.TopPIDs(context.Background(), []int{2543, 2600, 999999})
			if err != nil || len(byPIDs) != 2 || !cmp.Equal(byPIDs, want[:2]) {
				t.Errorf("TopPIDs: %+v, %v", byPIDs, err)
			}
			ns, err := fs.Namespaces(2543)
			if err != nil || ns["pid"] == 0 || ns["mnt"] == 0 {
				t.Errorf("ns: %v, %v", ns, err)
			}
			if _, ok := ns["pid_for_children"]; ok {
				t.Error("pid_for_children is not a kind of its own")
			}
		})
	}
}

func TestFixtureOddProcesses(t *testing.T) {
	fs, err := proc.NewFS(trees.Unpack(t, "cgroupv1-cgroupfs"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := fs.Get(3000)
	if err != nil || p.Comm != "my (odd) proc" || p.State != "R" || p.UID != 65534 {
		t.Errorf("comm with parentheses: %+v, %v", p, err)
	}
	// 3100 exited while being read: its stat was there, its status is gone.
	_, err = fs.Get(3100)
	if !errors.Is(err, proc.ErrNoProcess) || err.Error() != "process 3100: no such process" {
		t.Errorf("Get(3100): %v", err)
	}
	_, err = fs.Get(999999999)
	if !errors.Is(err, proc.ErrNoProcess) || err.Error() != "process 999999999: no such process" {
		t.Errorf("Get(999999999): %v", err)
	}
	k, err := fs.Get(2)
	if err != nil || len(k.Cmdline) != 0 || fs.Exe(2) != "" {
		t.Errorf("kernel thread: %+v, %v", k, err)
	}
	// The table leaves 3100 out, and filters.
	all, err := fs.Table(context.Background(), proc.Filter{Status: true, Cmdline: true, Cgroup: true})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range all {
		pids = append(pids, p.PID)
	}
	if diff := cmp.Diff([]int{1, 2, 2500, 2543, 2600, 3000, 3200, 4242}, pids); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	in, err := fs.Table(context.Background(), proc.Filter{InContainer: true})
	if err != nil || len(in) != 3 {
		t.Errorf("in containers: %d, %v", len(in), err)
	}
	kids, err := fs.Table(context.Background(), proc.Filter{PPID: 2543})
	if err != nil || len(kids) != 2 {
		t.Errorf("children of 2543: %d, %v", len(kids), err)
	}
	sh, err := fs.Table(context.Background(), proc.Filter{Comm: func(c string) bool { return c == "sh" }})
	if err != nil || len(sh) != 1 || sh[0].PID != 2600 {
		t.Errorf("comm sh: %v, %v", sh, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fs.Table(ctx, proc.Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled table: %v", err)
	}
}
