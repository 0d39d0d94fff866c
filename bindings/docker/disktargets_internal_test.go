package docker

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// TestSocketDockerd finds the test engine's dockerd from its socket (the
// kernel's SO_PEERCRED), and refuses a socket some other process holds.
func TestSocketDockerd(t *testing.T) {
	host := testengine.Host(t)
	if !strings.HasPrefix(host, "unix://") {
		t.Fatalf("the test engine is at %s, not a unix socket", host)
	}
	d, ok := socketDockerd("/", socketKey(host))
	if !ok {
		t.Fatalf("socketDockerd(%s): no dockerd found", host)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", d.pid))
	if err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
		t.Errorf("socketDockerd(%s) = process %d (%q, %v), not a dockerd", host, d.pid, comm, err)
	}
	info := testengine.MustDocker(t, "info", "--format", "{{.DockerRootDir}}")
	if d.dataRoot != filepath.Clean(info) {
		t.Errorf("socketDockerd(%s): data root %q, the engine says %q", host, d.dataRoot, info)
	}

	// A socket this test listens on: its holder is not a dockerd, even
	// with the name of a dockerd's socket in a dockerd's command line.
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if d, ok := socketDockerd("/", sock); ok {
		t.Errorf("socketDockerd(%s) = dockerd %d, want none: the test holds it", sock, d.pid)
	}
	if _, ok := socketDockerd("/", filepath.Join(t.TempDir(), "none.sock")); ok {
		t.Error("socketDockerd found a dockerd for a socket that does not exist")
	}
	if _, ok := socketDockerd(t.TempDir(), socketKey(host)); ok {
		t.Error("socketDockerd answered for a fixture root: its sockets are not real")
	}
}

// TestDiskTargets lists the running containers from the state on disk as
// the engine lists them: running and paused ones, newest first, not a
// stopped or a created one, and with filters.
func TestDiskTargets(t *testing.T) {
	host := testengine.Host(t)
	tag := "ctrsh.test.disk=" + strconv.FormatInt(time.Now().UnixNano(), 36)
	run := func(args ...string) string {
		return testengine.Run(t, append([]string{"--label", tag}, args...)...)
	}
	a := run("--label", "role=a", testengine.BusyboxImage, "sleep", "1000")
	b := run(testengine.BusyboxImage, "sleep", "1000")
	paused := run(testengine.BusyboxImage, "sleep", "1000")
	testengine.MustDocker(t, "pause", paused)
	stopped := run(testengine.BusyboxImage, "true")
	testengine.MustDocker(t, "wait", stopped)
	created := strings.TrimSpace(testengine.MustDocker(t, "create", "--label", tag, testengine.BusyboxImage, "true"))
	t.Cleanup(func() { _, _ = testengine.Docker(t, "rm", "-f", created) })

	e, err := NewEngine(host)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ts []StatTarget) []string {
		var out []string
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	for _, c := range []struct {
		filters map[string][]string
		want    []string
	}{
		{map[string][]string{"label": {tag}}, []string{paused, b, a}},
		{map[string][]string{"label": {tag, "role=a"}}, []string{a}},
		{map[string][]string{"label": {tag}, "status": {"paused"}}, []string{paused}},
		{map[string][]string{"label": {tag}, "id": {b[:12]}}, []string{b}},
	} {
		got, ok := diskTargets(e, "/", c.filters)
		if !ok {
			t.Fatalf("diskTargets(%v): not read from disk", c.filters)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("diskTargets(%v) = %.12q, want %.12q", c.filters, ids(got), c.want)
		}
		fromEngine, err := statTargets(context.Background(), e, "/", c.filters)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(fromEngine)) {
			t.Errorf("filters %v: from disk %.12q, the engine lists %.12q", c.filters, ids(got), ids(fromEngine))
		}
		for i := range got {
			if i < len(fromEngine) && got[i].Name != fromEngine[i].Name {
				t.Errorf("container %.12s: named %q from disk, %q by the engine", got[i].ID, got[i].Name, fromEngine[i].Name)
			}
		}
	}
	// A filter the files cannot answer goes to the engine.
	if _, ok := diskTargets(e, "/", map[string][]string{"network": {"none"}}); ok {
		t.Error(`diskTargets answered the "network" filter, which needs the engine`)
	}
}
