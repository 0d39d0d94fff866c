package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenPlaybook is the playbook of the golden manifests (not a bundled
// one, so that editing scripts/ does not change them).
var goldenPlaybook = []byte(`-- fleet-check: the playbook of the golden k8s manifests
local pb = playbook{description = "golden", args = {{name = "label", optional = true}}}
emit{status = "ok", label = pb.args.label}
`)

// strictSerializer decodes as kubeadm's strict.go does: apimachinery's
// YAML serializer with Strict set, over a scheme of the types a manifest
// may hold. An unknown field, a field in the wrong case and a duplicate
// field are all errors.
func strictSerializer() *kjson.Serializer {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
}

// decodeManifest splits a manifest into documents and decodes each
// strictly into its k8s.io/api type; a kind this test does not expect
// fails it.
func decodeManifest(t *testing.T, y []byte) (cms []corev1.ConfigMap, dss []appsv1.DaemonSet, jobs []batchv1.Job) {
	t.Helper()
	s := strictSerializer()
	for i, doc := range strings.Split(string(y), "\n---\n") {
		if i == 0 {
			// The comment block before the first document.
			for _, line := range strings.Split(strings.TrimSpace(doc), "\n") {
				if !strings.HasPrefix(line, "#") {
					t.Fatalf("not a comment before the first document: %q", line)
				}
			}
			continue
		}
		obj, gvk, err := s.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("document %d: strict decoding: %v", i, err)
		}
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			cms = append(cms, *o)
		case *appsv1.DaemonSet:
			dss = append(dss, *o)
		case *batchv1.Job:
			jobs = append(jobs, *o)
		default:
			t.Fatalf("document %d: unexpected %v", i, gvk)
		}
	}
	return cms, dss, jobs
}

// The strict decoder is strict: a misspelt, an unknown and a duplicate
// field each fail.
func TestDecodeManifestIsStrict(t *testing.T) {
	s := strictSerializer()
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      hostPid: true\n",
		"apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      hostPIDs: true\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: one\ndata:\n  b: two\n",
	} {
		if _, _, err := s.Decode([]byte(doc), nil, nil); err == nil || !runtime.IsStrictDecodingError(err) {
			t.Errorf("%q decoded: %v", doc, err)
		}
	}
	if _, _, err := s.Decode([]byte("apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      hostPID: true\n"), nil, nil); err != nil {
		t.Errorf("a good document: %v", err)
	}
}

// checkPodSpec asserts what every ctrsh pod needs: host PIDs, the runtime's
// socket and the host's cgroup tree (read-only), the playbook from the
// ConfigMap, the image, narrow privileges.
func checkPodSpec(t *testing.T, spec corev1.PodSpec, cm corev1.ConfigMap, image, socket string) {
	t.Helper()
	if !spec.HostPID {
		t.Error("hostPID is not set")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the service account token is mounted")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != image {
		t.Errorf("image %q, want %q", c.Image, image)
	}
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.Capabilities == nil ||
		len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("security context %+v: want unprivileged, capabilities dropped but a few, read-only root", sc)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("mount %s: no volume %q", m.MountPath, m.Name)
		}
	}
	for path, hostPath := range map[string]string{"/sys/fs/cgroup": "/sys/fs/cgroup", socket: socket} {
		m, ok := mounts[path]
		if !ok {
			t.Errorf("%s is not mounted", path)
			continue
		}
		if !m.ReadOnly {
			t.Errorf("%s is mounted read-write", path)
		}
		if v := volumes[m.Name]; v.HostPath == nil || v.HostPath.Path != hostPath {
			t.Errorf("%s: volume %+v, want hostPath %s", path, v.VolumeSource, hostPath)
		}
	}
	var pbMount *corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if v := volumes[m.Name]; v.ConfigMap != nil {
			if v.ConfigMap.Name != cm.Name {
				t.Errorf("playbook volume from ConfigMap %q, want %q", v.ConfigMap.Name, cm.Name)
			}
			pbMount = &m
		}
	}
	if pbMount == nil || pbMount.SubPath == "" || cm.Data[pbMount.SubPath] == "" {
		t.Fatalf("no playbook mounted from the ConfigMap (mount %+v, data keys %v)", pbMount, cm.Data)
	}
	if !strings.Contains(strings.Join(c.Command, " "), pbMount.MountPath) {
		t.Errorf("command %q does not run %s", c.Command, pbMount.MountPath)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the manifest built now (go test -run %s -update rewrites it):\n%s", path, t.Name(), got)
	}
}

func TestFleetK8sManifest(t *testing.T) {
	pb := &fleetPlaybook{name: "fleet-check", src: goldenPlaybook, sha: sha256Hex(goldenPlaybook)}
	base := k8sOptions{playbook: pb, args: []string{"--label", "app=web"}, image: "registry.example/ctrsh:v1",
		ctrsh: "/usr/local/bin/ctrsh", namespace: "ops", socket: "/run/containerd/containerd.sock"}

	t.Run("daemonset", func(t *testing.T) {
		m, err := buildK8sManifest(base)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "fleet-k8s-daemonset.yaml", m.YAML)
		cms, dss, jobs := decodeManifest(t, m.YAML)
		if len(cms) != 1 || len(dss) != 1 || len(jobs) != 0 {
			t.Fatalf("%d ConfigMaps, %d DaemonSets, %d Jobs", len(cms), len(dss), len(jobs))
		}
		if cms[0].Data["fleet-check.lua"] != string(goldenPlaybook) {
			t.Errorf("ConfigMap data %q", cms[0].Data)
		}
		ds := dss[0]
		checkPodSpec(t, ds.Spec.Template.Spec, cms[0], base.image, base.socket)
		if ds.Namespace != "ops" || cms[0].Namespace != "ops" {
			t.Errorf("namespaces %q %q", ds.Namespace, cms[0].Namespace)
		}
		sel := ds.Spec.Selector.MatchLabels
		for k, v := range sel {
			if ds.Spec.Template.Labels[k] != v {
				t.Errorf("selector %v does not match the template's labels %v", sel, ds.Spec.Template.Labels)
			}
		}
		cmd := strings.Join(ds.Spec.Template.Spec.Containers[0].Command, " ")
		if !strings.Contains(cmd, "--hold") || !strings.HasSuffix(cmd, "--label app=web") {
			t.Errorf("command %q", cmd)
		}
		if !strings.Contains(string(m.YAML), m.LogsCmd) || !strings.Contains(m.LogsCmd, "-l ctrsh.io/run="+m.RunID) {
			t.Errorf("logs line %q", m.LogsCmd)
		}
	})

	t.Run("job per node", func(t *testing.T) {
		o := base
		o.job, o.nodes, o.timeout = true, []string{"node-1", "Node_2.example.com"}, 5*time.Minute
		o.socket, o.caps = "/var/run/docker.sock", []string{"cap_setuid"}
		m, err := buildK8sManifest(o)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "fleet-k8s-job.yaml", m.YAML)
		cms, dss, jobs := decodeManifest(t, m.YAML)
		if len(cms) != 1 || len(dss) != 0 || len(jobs) != 2 {
			t.Fatalf("%d ConfigMaps, %d DaemonSets, %d Jobs", len(cms), len(dss), len(jobs))
		}
		for i, job := range jobs {
			spec := job.Spec.Template.Spec
			checkPodSpec(t, spec, cms[0], o.image, o.socket)
			if spec.NodeName != o.nodes[i] || spec.RestartPolicy != corev1.RestartPolicyNever || *job.Spec.BackoffLimit != 0 {
				t.Errorf("job %s: node %q restart %q backoff %d", job.Name, spec.NodeName, spec.RestartPolicy, *job.Spec.BackoffLimit)
			}
			if len(job.Name) > 63 {
				t.Errorf("job name %q is longer than a DNS label", job.Name)
			}
			if env := spec.Containers[0].Env; env[1].Name != "DOCKER_HOST" || env[1].Value != "unix:///var/run/docker.sock" {
				t.Errorf("env %v", env)
			}
			if caps := fmt.Sprint(spec.Containers[0].SecurityContext.Capabilities.Add); !strings.Contains(caps, "SETUID") {
				t.Errorf("capabilities %s lack SETUID", caps)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			mod  func(*k8sOptions)
			want string
		}{
			{func(o *k8sOptions) { o.image = "" }, "--image"},
			{func(o *k8sOptions) { o.job = true }, "--nodes"},
			{func(o *k8sOptions) { o.nodes = []string{"n"} }, "--job"},
			{func(o *k8sOptions) { o.caps = []string{"ALL; rm"} }, "--cap"},
		} {
			o := base
			tc.mod(&o)
			if _, err := buildK8sManifest(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		}
	})
}

// The command prints the manifest of a bundled playbook and the logs line.
func TestFleetK8sCommand(t *testing.T) {
	r := ctrsh(t, "", "fleet", "k8s", "health", "--label", "app=web", "--image", "ctrsh:test")
	if r.code != 0 || !strings.Contains(r.stderr, "kubectl logs -n default -l ctrsh.io/run=") {
		t.Fatalf("exit %d\nstderr %s", r.code, r.stderr)
	}
	cms, dss, _ := decodeManifest(t, []byte(r.stdout))
	if len(cms) != 1 || len(dss) != 1 || !strings.Contains(cms[0].Data["health.lua"], "Cron check") {
		t.Errorf("manifest %s", r.stdout)
	}
	r = ctrsh(t, "", "fleet", "k8s", "health")
	if r.code != 64 || !strings.Contains(r.stderr, "--image") {
		t.Errorf("without --image: exit %d, stderr %q", r.code, r.stderr)
	}
}
