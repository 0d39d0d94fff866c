package main

import (
	"strings"
	"testing"

	"github.com/ctrsh/ctrsh/fixtures/testcri"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// ctrsh nsenter -t takes a pod's container too, as containers.get finds
// it (here through CONTAINER_RUNTIME_ENDPOINT).
func TestNsenterPodContainer(t *testing.T) {
	testengine.NeedRoot(t, "nsenter")
	pod := testcri.RunPod(t, testcri.Name("nsenter"))
	pod.Run(t, "app", testcri.BusyboxImage, "sleep", "1000")
	env := engineEnv(t, "CONTAINER_RUNTIME_ENDPOINT="+testcri.Endpoint(t))
	var init string
	for range 50 {
		r := ctrshEnv(t, env, "", "nsenter", "-t", pod.Name+"/app", "-a", "--", "ps")
		if r.code != 0 {
			t.Fatalf("nsenter ps: exit %d, stderr %q", r.code, r.stderr)
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == "1" {
				init = strings.Join(f[2:], " ")
			}
		}
		if init == "sleep 1000" {
			break
		}
	}
	if init != "sleep 1000" {
		t.Errorf("nsenter -t %s/app ps: PID 1 is %q, want sleep 1000", pod.Name, init)
	}
}
