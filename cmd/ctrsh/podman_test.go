package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// Without --host and DOCKER_HOST, ctrsh takes /var/run/docker.sock when it
// exists, else /run/podman/podman.sock. Each case runs ctrsh in a mount
// namespace of its own whose /run (where /var/run points) is a fresh tmpfs
// holding only the sockets the case puts there: the test engines' sockets,
// bind-mounted at the well-known paths. The host's /run is not touched.
func TestFindsEngineSocket(t *testing.T) {
	testengine.NeedRoot(t, "mount namespaces")
	docker := strings.TrimPrefix(testengine.Host(t), "unix://")
	podman := strings.TrimPrefix(testengine.Podman.Host(t), "unix://")
	bin := ctrshBinary(t)
	for _, c := range []struct {
		name   string
		mounts map[string]string // path in the namespace → socket
		want   string
	}{
		{"podman only", map[string]string{"/run/podman/podman.sock": podman}, "podman unix:///run/podman/podman.sock"},
		{"both", map[string]string{"/run/podman/podman.sock": podman, "/run/docker.sock": docker}, "docker unix:///var/run/docker.sock"},
		{"docker only", map[string]string{"/run/docker.sock": docker}, "docker unix:///var/run/docker.sock"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stage := t.TempDir()
			// The sockets are bind-mounted to the stage first: the tmpfs
			// then hides the real /run.
			var stageIt, mountIt strings.Builder
			stageIt.WriteString("set -e\n")
			i := 0
			for at, sock := range c.mounts {
				staged := fmt.Sprintf("%s/%d", stage, i)
				i++
				fmt.Fprintf(&stageIt, "touch %s; mount --bind %s %s\n", staged, sock, staged)
				fmt.Fprintf(&mountIt, "mkdir -p %s; touch %s; mount --bind %s %s\n", filepath.Dir(at), at, staged, at)
			}
			script := stageIt.String() + "mount -t tmpfs ctrsh-test /run\n" + mountIt.String()
			script += `exec "$0" -e 'local i = assert(docker.info()); print(i.runtime, i.host)'` + "\n"
			cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, bin)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "CTRSH_AUDIT_FILE=" + stage + "/audit"}
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != strings.ReplaceAll(c.want, " ", "\t") {
				t.Errorf("ctrsh in a namespace with %v: %v\n%s\nwant %q", c.mounts, err, out, c.want)
			}
		})
	}
}
