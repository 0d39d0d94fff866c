package cgroup_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// ProcsFiles names the cgroup.procs file of every hierarchy a process is
// in that is mounted: what ctrsh nsenter -c and join_cgroup= write to.
func TestProcsFiles(t *testing.T) {
	scope := "/system.slice/docker-" + docker + ".scope/cgroup.procs"
	for _, tc := range []struct {
		tree string
		want []string
	}{
		{"cgroupv2-systemd", []string{"/sys/fs/cgroup" + scope}},
		{"cgroupv1-cgroupfs", nil}, // checked below: one file per mounted hierarchy
		{"hybrid", []string{
			"/sys/fs/cgroup/devices" + scope, "/sys/fs/cgroup/pids" + scope, "/sys/fs/cgroup/blkio" + scope,
			"/sys/fs/cgroup/memory" + scope, "/sys/fs/cgroup/cpu,cpuacct" + scope, "/sys/fs/cgroup/systemd" + scope,
			"/sys/fs/cgroup/unified" + scope,
		}},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			root := trees.Unpack(t, tc.tree)
			ms, err := cgroup.ReadMounts(root)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ms.ProcsFiles(2543)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range got {
				if !strings.HasPrefix(p, root+"/") {
					t.Errorf("%s is not below the host root %s", p, root)
				}
				got[i] = strings.TrimPrefix(p, root)
			}
			if tc.want == nil {
				for _, p := range got {
					if !strings.HasSuffix(p, "/docker/"+docker+"/cgroup.procs") {
						t.Errorf("%s is not the container's", p)
					}
				}
				if len(got) < 4 {
					t.Errorf("%d hierarchies joined, want every mounted one: %v", len(got), got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	root := trees.Unpack(t, "cgroupv2-systemd")
	ms, _ := cgroup.ReadMounts(root)
	if _, err := ms.ProcsFiles(999999); err == nil || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("a process that is not there: %v", err)
	}
}
