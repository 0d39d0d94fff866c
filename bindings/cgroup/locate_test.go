package cgroup_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// A container's cgroup is found from its id alone in the cgroupfs and
// systemd layouts of v1, v2 and hybrid hosts, the same cgroup its process
// is in; Kubernetes' layouts (which name the pod) are not guessed.
func TestForContainer(t *testing.T) {
	for _, w := range layouts {
		t.Run(w.tree, func(t *testing.T) {
			root := trees.Unpack(t, w.tree)
			byPID, err := cgroup.ForPID(root, 2543)
			if err != nil {
				t.Fatal(err)
			}
			id := ""
			for _, name := range []string{"docker-web", "podman-web"} {
				if cid := trees.ID(name); strings.Contains(byPID.Path, cid) {
					id = cid
				}
			}
			c, err := cgroup.ForContainer(root, trees.ID("docker-web"))
			if id == "" {
				if !errors.Is(err, cgroup.ErrNoCgroup) {
					t.Errorf("a %s container found from its id: %v, %v", w.tree, c, err)
				}
				return
			}
			if c, err = cgroup.ForContainer(root, id); err != nil {
				t.Fatal(err)
			}
			if c.Version != byPID.Version {
				t.Errorf("v%d, want v%d", c.Version, byPID.Version)
			}
			dir, _ := c.Dir("memory")
			want, _ := byPID.Dir("memory")
			if dir != want && dir+"/container" != want {
				t.Errorf("memory directory %s, its process's %s", dir, want)
			}
			m, err := c.MemoryBrief()
			if err != nil || m.Usage == nil {
				t.Fatalf("MemoryBrief: %+v, %v", m, err)
			}
			// The brief read's OOM-kill count is the full read's.
			oom, err := c.OOMKills()
			if err != nil || (oom == nil) != (m.OOMKills == nil) || (oom != nil && *oom != *m.OOMKills) {
				t.Errorf("MemoryBrief OOM kills %v, OOMKills() %v, %v", m.OOMKills, oom, err)
			}
		})
	}
}
