package cri_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/fixtures/testcri"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func TestDial(t *testing.T) {
	ctx := context.Background()
	c, err := cri.Dial(ctx, testcri.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Runtime != "containerd" || c.APIVersion != "v1" {
		t.Errorf("Dial: runtime %q api %q, want containerd v1", c.Runtime, c.APIVersion)
	}
}

// A socket that is not a CRI runtime fails at Dial, fast, naming it.
func TestDialNotCRI(t *testing.T) {
	testengine.Host(t)
	// The Docker test engine's own containerd: gRPC, but its CRI plugin is off.
	const containerd = "unix:///run/ctrsh-test/containerd/containerd.sock"
	_, err := cri.Dial(context.Background(), containerd)
	if !errors.Is(err, cri.ErrNotCRI) {
		t.Errorf("Dial(%s): %v, want ErrNotCRI", containerd, err)
	}
	// The Docker Engine's socket: HTTP, not gRPC.
	start := time.Now()
	_, err = cri.Dial(context.Background(), testengine.Host(t))
	if err == nil {
		t.Fatalf("Dial(%s): no error", testengine.Host(t))
	}
	t.Logf("docker.sock: %v (%v)", err, time.Since(start))
	if time.Since(start) > cri.DialTimeout+time.Second {
		t.Errorf("Dial of the Docker socket took %v", time.Since(start))
	}
}

// A socket that accepts and never answers, and one that is missing: the
// error comes within DialTimeout and names the endpoint.
func TestDialHungAndMissing(t *testing.T) {
	dir := t.TempDir()
	hung := filepath.Join(dir, "hung.sock")
	l, err := net.Listen("unix", hung)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // held open, never answered
		}
	}()
	for _, ep := range []string{"unix://" + hung, "unix://" + filepath.Join(dir, "missing.sock")} {
		start := time.Now()
		_, err := cri.Dial(context.Background(), ep)
		took := time.Since(start)
		if !errors.Is(err, cri.ErrNotReachable) {
			t.Errorf("Dial(%s): %v, want ErrNotReachable", ep, err)
		}
		if err != nil && !contains(err.Error(), ep) {
			t.Errorf("Dial(%s): %q does not name the endpoint", ep, err)
		}
		if took > cri.DialTimeout+time.Second {
			t.Errorf("Dial(%s) took %v", ep, took)
		}
	}
	// The caller's cancellation is the caller's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cri.Dial(ctx, "unix://"+hung); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := cri.Dial(context.Background(), "tcp://127.0.0.1:1"); err == nil {
		t.Errorf("Dial(tcp://): no error")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
