package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// k8sOptions say what `ctrsh fleet k8s` puts in its manifest.
type k8sOptions struct {
	playbook  *fleetPlaybook
	args      []string
	image     string
	ctrsh     string // the binary's path in the image
	namespace string
	socket    string // the runtime's socket on the nodes
	job       bool
	nodes     []string
	caps      []string // added to defaultCaps
	timeout   time.Duration
	safe      bool
}

// defaultCaps are the capabilities a ctrsh pod gets, with every other one
// dropped (it is not privileged):
//   - SYS_ADMIN: setns(2) into a container's mount, uts, ipc, net and
//     cgroup namespaces (c:enter, c:run, ctrsh nsenter);
//   - SYS_CHROOT: setns(2) into a mount namespace needs it as well;
//   - SYS_PTRACE: /proc/PID/ns, /proc/PID/environ and /proc/PID/root of
//     processes with other users or capabilities (ptrace read access);
//   - DAC_READ_SEARCH: reading, never writing, files of other users
//     (a container's files through /proc/PID/root, its logs).
//
// Not given: SETUID/SETGID (enter with user=), KILL (signals to processes
// of other users), BPF/PERFMON (tracing): add them with --cap.
var defaultCaps = []string{"SYS_ADMIN", "SYS_CHROOT", "SYS_PTRACE", "DAC_READ_SEARCH"}

const (
	k8sPlaybookDir = "/etc/ctrsh/fleet"
	labelRun       = "ctrsh.io/run"
	labelPlaybook  = "ctrsh.io/playbook"
	annotSHA       = "ctrsh.io/playbook-sha256"
)

// k8sManifest is the manifest's YAML and the commands that go with it.
type k8sManifest struct {
	YAML    []byte
	RunID   string
	LogsCmd string
	Delete  string
}

// dnsUnsafe matches what may not be in a DNS-1123 label. It is compiled
// on first use, not at the start of every ctrsh run.
var dnsUnsafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9-]+`) })

// dnsLabel makes s a DNS-1123 label of at most n characters.
func dnsLabel(s string, n int) string {
	s = strings.Trim(dnsUnsafe().ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > n {
		s = strings.TrimRight(s[:n], "-")
	}
	if s == "" {
		s = "x"
	}
	return s
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// buildK8sManifest builds the objects from the types of fleet_k8s_types.go
// and prints them with sigs.k8s.io/yaml. The run id is a hash of everything
// that goes into the manifest, so the same inputs give the same manifest
// (kubectl apply is idempotent) and each run's objects share a label.
func buildK8sManifest(o k8sOptions) (*k8sManifest, error) {
	caps, err := k8sCaps(o)
	if err != nil {
		return nil, err
	}
	pb := o.playbook
	id := shortHash(pb.name, pb.sha, strings.Join(o.args, "\x00"), o.image, o.ctrsh, o.namespace, o.socket,
		fmt.Sprint(o.job), strings.Join(o.nodes, ","), fmt.Sprint(caps), o.timeout.String(), fmt.Sprint(o.safe))
	base := "ctrsh-" + dnsLabel(pb.name, 30) + "-" + id
	labels := map[string]string{
		"app.kubernetes.io/name":      "ctrsh",
		"app.kubernetes.io/component": "fleet",
		labelPlaybook:                 dnsLabel(pb.name, 63),
		labelRun:                      id,
	}
	annotations := map[string]string{annotSHA: pb.sha}
	meta := func(name string) k8sObjectMeta {
		return k8sObjectMeta{Name: name, Namespace: o.namespace, Labels: labels, Annotations: annotations}
	}

	key := pb.name + ".lua"
	cm := &k8sConfigMap{
		k8sTypeMeta: k8sTypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		Metadata:    meta(base),
		Data:        map[string]string{key: string(pb.src)},
	}

	template := func() k8sPodTemplateSpec {
		// A pod of its own each time: the workloads set fields of it.
		return k8sPodTemplateSpec{Metadata: k8sObjectMeta{Labels: labels, Annotations: annotations}, Spec: newK8sPodSpec(o, key, base, caps)}
	}
	objs := append([]any{cm}, k8sWorkloads(o, base, id, meta, template)...)

	kinds := "configmap,daemonset"
	if o.job {
		kinds = "configmap,job"
	}
	m := &k8sManifest{
		RunID: id,
		LogsCmd: fmt.Sprintf("kubectl logs -n %s -l %s=%s -c ctrsh --tail=-1 --max-log-requests=100",
			shellQuote(o.namespace), labelRun, id),
		Delete: fmt.Sprintf("kubectl delete -n %s %s -l %s=%s", shellQuote(o.namespace), kinds, labelRun, id),
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# ctrsh fleet k8s: playbook %s (sha256 %s), run %s\n", pb.name, pb.sha, id)
	fmt.Fprintf(&b, "# rows (JSON lines, with host):  %s\n", m.LogsCmd)
	fmt.Fprintf(&b, "# remove:  %s\n", m.Delete)
	for _, obj := range objs {
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	m.YAML = b.Bytes()
	return m, nil
}

// k8sCaps checks the options that go together and returns the
// capabilities of the pod: the default ones and those of --cap.
func k8sCaps(o k8sOptions) ([]string, error) {
	if o.image == "" {
		return nil, fmt.Errorf("--image: the image that holds ctrsh at %s is required", o.ctrsh)
	}
	if o.job && len(o.nodes) == 0 {
		return nil, fmt.Errorf("--job needs --nodes n1,n2,... (kubectl get nodes -o name)")
	}
	if !o.job && len(o.nodes) > 0 {
		return nil, fmt.Errorf("--nodes goes with --job (a DaemonSet runs on every node)")
	}
	caps := append([]string{}, defaultCaps...)
	for _, c := range o.caps {
		c = strings.TrimPrefix(strings.ToUpper(c), "CAP_")
		if !isCapName(c) {
			return nil, fmt.Errorf("--cap %q: a capability name such as SETUID", c)
		}
		caps = append(caps, c)
	}
	return caps, nil
}

// isCapName tells whether c is written as a capability name without CAP_:
// letters A-Z and '_'.
func isCapName(c string) bool {
	for i := 0; i < len(c); i++ {
		if (c[i] < 'A' || c[i] > 'Z') && c[i] != '_' {
			return false
		}
	}
	return c != ""
}

// k8sCommand is the pod's command: ctrsh fleet local on the playbook,
// holding on after the run in a DaemonSet (a Job ends).
func k8sCommand(o k8sOptions, key string) []string {
	command := []string{o.ctrsh, "fleet", "local", k8sPlaybookDir + "/" + key, "--json"}
	if !o.job {
		command = append(command, "--hold")
	}
	if o.timeout > 0 {
		command = append(command, "--timeout", o.timeout.String())
	}
	if o.safe {
		command = append(command, "--safe")
	}
	command = append(command, o.args...)
	return command
}

// newK8sPodSpec is the pod that runs the playbook key of the ConfigMap base on
// a node: host PIDs, the runtime's socket and the cgroup tree read-only,
// caps and nothing more.
func newK8sPodSpec(o k8sOptions, key, base string, caps []string) k8sPodSpec {
	command := k8sCommand(o, key)
	endpointEnv := "CONTAINER_RUNTIME_ENDPOINT"
	if strings.HasSuffix(o.socket, "docker.sock") || strings.HasSuffix(o.socket, "podman.sock") {
		endpointEnv = "DOCKER_HOST"
	}
	hostPath := func(name, p, t string) k8sVolume {
		return k8sVolume{Name: name, HostPath: &k8sHostPath{Path: p, Type: t}}
	}
	return k8sPodSpec{
		// Host PIDs: the PIDs the runtime reports, /proc/PID/ns to enter.
		HostPID:                       true,
		AutomountServiceAccountToken:  ptr(false), // ctrsh never calls the Kubernetes API
		EnableServiceLinks:            ptr(false),
		TerminationGracePeriodSeconds: ptr(int64(10)),
		Tolerations:                   []k8sToleration{{Operator: "Exists"}},
		Containers: []k8sContainer{{
			Name:            "ctrsh",
			Image:           o.image,
			ImagePullPolicy: "IfNotPresent",
			Command:         command,
			Env: []k8sEnvVar{
				{Name: "NODE_NAME", ValueFrom: &k8sEnvVarSource{FieldRef: &k8sFieldRef{FieldPath: "spec.nodeName"}}},
				{Name: endpointEnv, Value: "unix://" + o.socket},
			},
			Resources: k8sResources{
				Requests: map[string]string{"cpu": "10m", "memory": "64Mi"},
				Limits:   map[string]string{"memory": "512Mi"},
			},
			SecurityContext: k8sSecurity(caps),
			VolumeMounts: []k8sVolumeMount{
				{Name: "playbook", MountPath: k8sPlaybookDir + "/" + key, SubPath: key, ReadOnly: true},
				{Name: "runtime", MountPath: o.socket, ReadOnly: true},
				{Name: "cgroup", MountPath: "/sys/fs/cgroup", ReadOnly: true},
				{Name: "audit", MountPath: "/var/log/ctrsh"},
				{Name: "run", MountPath: "/run/ctrsh"},
				{Name: "tmp", MountPath: "/tmp"},
			},
		}},
		Volumes: []k8sVolume{
			// A file of its own (subPath), not the ConfigMap volume's symlinks:
			// ctrsh opens playbooks without following links.
			{Name: "playbook", ConfigMap: &k8sConfigMapVolume{Name: base, DefaultMode: ptr(int32(0o444))}},
			hostPath("runtime", o.socket, "Socket"),
			hostPath("cgroup", "/sys/fs/cgroup", "Directory"),
			// The audit log of runs that enter or change containers stays on the node.
			hostPath("audit", "/var/log/ctrsh", "DirectoryOrCreate"),
			{Name: "run", EmptyDir: &k8sEmptyDir{Medium: "Memory"}},
			{Name: "tmp", EmptyDir: &k8sEmptyDir{}},
		},
	}
}

// k8sSecurity is the ctrsh container's security context: root without
// privilege, a read-only root, every capability dropped but caps.
func k8sSecurity(caps []string) *k8sSecurityContext {
	return &k8sSecurityContext{
		Capabilities:           &k8sCapabilities{Add: caps, Drop: []string{"ALL"}},
		RunAsUser:              ptr(int64(0)),
		Privileged:             ptr(false),
		ReadOnlyRootFilesystem: ptr(true),
		SeccompProfile:         &k8sProfile{Type: "RuntimeDefault"},
		// The runtime's AppArmor profile allows ptrace only among its own
		// containers: reading /proc/PID/ns of other pods needs it off.
		AppArmorProfile: &k8sProfile{Type: "Unconfined"},
	}
}

// k8sWorkloads are a Job per node (--job) or one DaemonSet, each with a pod
// from template.
func k8sWorkloads(o k8sOptions, base, id string, meta func(string) k8sObjectMeta, template func() k8sPodTemplateSpec) []any {
	var objs []any
	if o.job {
		for _, node := range o.nodes {
			t := template()
			t.Spec.NodeName = node
			t.Spec.RestartPolicy = "Never"
			job := &k8sJob{
				k8sTypeMeta: k8sTypeMeta{APIVersion: "batch/v1", Kind: "Job"},
				Metadata:    meta(jobName(base, node)),
			}
			job.Spec.BackoffLimit = ptr(int32(0)) // exit 3 is an answer, not a reason to retry
			job.Spec.TTLSecondsAfterFinished = ptr(int32(86400))
			job.Spec.Template = t
			if o.timeout > 0 {
				job.Spec.ActiveDeadlineSeconds = ptr(int64((o.timeout + time.Minute) / time.Second))
			}
			objs = append(objs, job)
		}
	} else {
		t := template()
		t.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
		t.Spec.RestartPolicy = "Always"
		ds := &k8sDaemonSet{
			k8sTypeMeta: k8sTypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			Metadata:    meta(base),
		}
		ds.Spec.Selector = k8sLabelSelector{MatchLabels: map[string]string{labelRun: id}}
		ds.Spec.Template = t
		objs = append(objs, ds)
	}
	return objs
}

// jobName is base-node as a DNS label: the node's name where it fits,
// with a hash when it had to be cut or changed.
func jobName(base, node string) string {
	n := 63 - len(base) - 1
	s := dnsLabel(node, n)
	if s != node {
		s = dnsLabel(node, n-7) + "-" + shortHash(node)[:6]
	}
	return base + "-" + s
}

func ptr[T any](v T) *T { return &v }

// runFleetK8s is `ctrsh fleet k8s PLAYBOOK [ARGS...] --image IMAGE`.
func runFleetK8s(args []string, stdout, stderr io.Writer) int {
	f := defaultFleetFlags()
	f.timeout = 0
	rest, err := parseFleetArgs(&f, args, "image", "namespace", "socket", "job", "nodes", "cap", "remote-ctrsh", "timeout", "safe")
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet k8s: %v\n", err)
		return luax.ExitUsage
	}
	if f.help {
		fmt.Fprint(stdout, fleetUsage)
		return luax.ExitOK
	}
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "ctrsh fleet k8s: which playbook? usage: ctrsh fleet k8s PLAYBOOK [ARGS...] --image IMAGE")
		return luax.ExitUsage
	}
	pb, code := loadFleetPlaybook("ctrsh fleet k8s", rest[0], stderr)
	if pb == nil {
		return code
	}
	var nodes []string
	for _, n := range strings.Split(f.nodes, ",") {
		if n = strings.TrimSpace(n); n != "" {
			nodes = append(nodes, strings.TrimPrefix(n, "node/"))
		}
	}
	sort.Strings(nodes)
	m, err := buildK8sManifest(k8sOptions{
		playbook: pb, args: rest[1:], image: f.image, ctrsh: f.remote, namespace: f.namespace,
		socket: f.socket, job: f.job, nodes: nodes, caps: f.caps, timeout: f.timeout, safe: f.safe,
	})
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet k8s: %v\n", err)
		return luax.ExitUsage
	}
	stdout.Write(m.YAML)
	fmt.Fprintf(stderr, "ctrsh fleet k8s: apply with 'kubectl apply -f -'; gather the rows with:\n  %s\n", m.LogsCmd)
	return luax.ExitOK
}
