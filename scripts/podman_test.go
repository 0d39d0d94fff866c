package scripts_test

import (
	"testing"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// The bundled playbooks against Podman's Docker-compatible API (the
// private Podman service, podman.sh), checked as against Docker. Left out:
// oomwatch, which needs the engine's oom events (Podman's compatible API
// reports none for a kill that leaves the container running).
func TestPodmanPlaybooks(t *testing.T) {
	g := testengine.Podman
	g.Host(t)
	for _, pb := range []struct {
		name string
		test func(*testing.T, *testengine.Target)
	}{
		{"pidmap", testPidmap},
		{"inspect-ns", testInspectNS},
		{"top-mem-cpu", testTopMemCPU},
		{"restart-loop", testRestartLoop},
		{"env-audit", testEnvAudit},
		{"log-errors", testLogErrors},
		{"zombies", testZombies},
		{"diag-bundle", testDiagBundle},
		{"health", testHealth},
	} {
		t.Run(pb.name, func(t *testing.T) {
			t.Parallel()
			pb.test(t, g)
		})
	}
}
