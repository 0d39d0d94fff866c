package cri_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// CRI-O's state on disk (the crio tree: a pod's container and sandbox,
// a bundle whose pidfile lies, one whose config.json is a symlink): the
// container with its pod from the annotations, its PID once /proc says
// the process is the container's.
func TestDiskCRIO(t *testing.T) {
	root := trees.Unpack(t, "crio")
	down := errors.New("dial: connection refused")
	if d := cri.DiskRuntime(t.TempDir(), "unix:///run/crio/crio.sock", down); d != nil {
		t.Fatalf("DiskRuntime of a host without CRI-O's storage: %+v, want nil", d)
	}
	d := cri.DiskRuntime(root, "unix:///run/crio/crio.sock", down)
	if d == nil || d.Runtime != "cri-o" {
		t.Fatalf("DiskRuntime: %+v, want cri-o's", d)
	}
	ctx := context.Background()
	all, err := d.List(ctx, cri.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("List: %d containers, want the container and the liar (not the sandbox, not the symlink)", len(all))
	}
	running, err := d.List(ctx, cri.ListOptions{})
	if err != nil || len(running) != 1 {
		t.Fatalf("List of the running: %v %v, want one", running, err)
	}
	c := running[0]
	id := trees.ID("crio-web")
	if c.ID != id || c.Name != "web" || c.Runtime != "cri-o" || c.Source != docker.SourceDisk || c.State != "running" || c.PID != 2543 ||
		c.Image != "nginx:1.25" || c.Pod == nil || c.Pod.Name != "web-7d9f" || c.Pod.Namespace != "default" ||
		c.Pod.ID != trees.ID("crio-web-sandbox") || c.Labels["app"] != "web" || c.Created.IsZero() {
		t.Errorf("container %+v (pod %+v)", c, c.Pod)
	}
	if env, ok := c.Env(); !ok || len(env) != 2 || env[1] != "DB_PASSWORD=hunter2hunter2" {
		t.Errorf("Env: %q %v", env, ok)
	}
	for _, ref := range []string{"web", "web-7d9f", "web-7d9f/web", "default/web-7d9f/web", id[:8], id} {
		k, err := d.Lookup(ctx, ref)
		if err != nil || k.ID != id {
			t.Errorf("Lookup(%q): %v %v", ref, k, err)
		}
	}
	// The liar's pidfile names the host's init: not taken as its process.
	liar, err := d.Lookup(ctx, "evil")
	if err != nil {
		t.Fatal(err)
	}
	if liar.PID != 0 || liar.State == "running" {
		t.Errorf("a bundle whose pidfile names PID 1: pid %d, state %s; want no PID", liar.PID, liar.State)
	}
	if _, err := d.Lookup(ctx, "nope"); !errors.Is(err, docker.ErrNoSuchContainer) {
		t.Errorf("Lookup(nope): %v", err)
	}
	// What needs the runtime says it does not answer.
	if _, err := c.Exec(ctx, []string{"true"}, docker.ExecOptions{}); err == nil || !errors.Is(err, down) {
		t.Errorf("Exec from disk: %v, want the runtime's error", err)
	}
}
