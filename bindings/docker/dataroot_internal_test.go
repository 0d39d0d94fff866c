package docker

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSocketKey(t *testing.T) {
	for _, c := range []struct{ host, want string }{
		{"unix:///var/run/docker.sock", "/run/docker.sock"},
		{"unix:///run/docker.sock", "/run/docker.sock"},
		{"unix:///run//ctrsh-test/../ctrsh-test/docker.sock", "/run/ctrsh-test/docker.sock"},
		{"fd://", "/run/docker.sock"},
		{"tcp://127.0.0.1:2375", ""},
		{"ssh://me@host", ""},
	} {
		if got := socketKey(c.host); got != c.want {
			t.Errorf("socketKey(%q) = %q, want %q", c.host, got, c.want)
		}
	}
}

func TestParseDockerd(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte(`{"data-root": "/srv/docker", "hosts": ["unix:///run/other.sock"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "none.json")
	for _, c := range []struct {
		argv      []string
		hosts     []string
		dataRoot  string
		whyItTest string
	}{
		{[]string{"dockerd", "--config-file", missing}, []string{"unix:///var/run/docker.sock"}, "/var/lib/docker", "defaults"},
		{[]string{"dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "--config-file=" + missing}, []string{"fd://"}, "/var/lib/docker", "systemd"},
		{[]string{"/usr/bin/dockerd", "--data-root=/data/docker/", "-H", "unix:///x.sock", "--host=tcp://0.0.0.0:2375", "--config-file", missing},
			[]string{"unix:///x.sock", "tcp://0.0.0.0:2375"}, "/data/docker", "flags, both forms"},
		{[]string{"dockerd", "-g", "/old/graph", "--config-file", missing}, []string{"unix:///var/run/docker.sock"}, "/old/graph", "the old flag"},
		{[]string{"dockerd", "--config-file", cfg}, []string{"unix:///run/other.sock"}, "/srv/docker", "from its config file"},
		{[]string{"dockerd", "--config-file", cfg, "--data-root", "/flag"}, []string{"unix:///run/other.sock"}, "/flag", "the flag wins"},
		{[]string{"dockerd", "--data-root"}, []string{"unix:///var/run/docker.sock"}, "/var/lib/docker", "a flag without its value"},
	} {
		d := parseDockerd("/", c.argv)
		if !slices.Equal(d.hosts, c.hosts) || d.dataRoot != c.dataRoot {
			t.Errorf("%s: parseDockerd(%q) = hosts %q, data root %q; want %q, %q", c.whyItTest, c.argv, d.hosts, d.dataRoot, c.hosts, c.dataRoot)
		}
	}
}

func TestFamiliarImage(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io/library/busybox:latest":  "busybox:latest",
		"docker.io/ctrsh-test/busybox:1":    "ctrsh-test/busybox:1",
		"docker.io/library/a/b":             "library/a/b",
		"localhost/mine:latest":             "localhost/mine:latest",
		"quay.io/podman/stable":             "quay.io/podman/stable",
		"sha256:0123456789abcdef0123456789": "sha256:0123456789abcdef0123456789",
	} {
		if got := familiarImage(in); got != want {
			t.Errorf("familiarImage(%q) = %q, want %q", in, got, want)
		}
	}
}
