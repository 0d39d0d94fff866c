package journal

import (
	"context"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// With the engine down, the sampler samples the containers of its last
// look that still have processes, each with a process found in /proc (its
// remembered PID may be another process's by now); the others are gone.
func TestFallbackTargets(t *testing.T) {
	root := trees.Unpack(t, "cgroupv1-cgroupfs")
	web := trees.ID("docker-web")
	r := &recorder{cfg: &Config{HostRoot: root}}
	if got := r.fallbackTargets(context.Background()); got != nil {
		t.Errorf("no last look: %v, want none", got)
	}
	r.lastTarget = []docker.StatTarget{
		{ID: trees.ID("gone"), Name: "gone", PID: 2500},
		{ID: web, Name: "web", PID: 99999},
	}
	got := r.fallbackTargets(context.Background())
	if len(got) != 1 || got[0].ID != web || got[0].Name != "web" {
		t.Fatalf("fallback targets %+v, want web alone", got)
	}
	if got[0].PID != 2543 && got[0].PID != 2600 {
		t.Errorf("web's PID %d, want one of its processes (2543, 2600)", got[0].PID)
	}
}
