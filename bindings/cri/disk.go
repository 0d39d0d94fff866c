package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/logs"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/proc"
)

// When a CRI runtime does not answer, its containers are still described
// by the OCI bundles it left for runc: containerd's
// <state>/io.containerd.runtime.v2.task/k8s.io/<id>/config.json (and the
// shim's init.pid beside it), CRI-O's
// /run/containers/storage/overlay-containers/<id>/userdata/config.json (and
// pidfile). Their annotations name the container, its pod and image. The
// files are the runtime's, but what they say comes from the pod's spec and
// the container: names are taken as text to show, nothing in them steers
// what ctrsh does, and a PID read there is used only once the process's
// own cgroup names the container (and pinned again before any action, as
// for every runtime).

// Disk is a CRI runtime's containers read from its state on disk.
type Disk struct {
	Runtime  string // "containerd" or "cri-o"
	Endpoint string
	// Cause is why the runtime's API was not used.
	Cause error

	hostRoot string
	layout   string   // "containerd" or "cri-o"
	dirs     []string // where the bundles are, below hostRoot
}

// DiskRuntime is the runtime at endpoint, which did not answer (cause),
// read from disk below hostRoot; nil when no bundle directory of its is
// there. containerd's state directory is its socket's (the default
// /run/containerd, k3s's /run/k3s/containerd); CRI-O's storage is at its
// default run and data roots.
func DiskRuntime(hostRoot, endpoint string, cause error) *Disk {
	path, err := socketPath(endpoint)
	if err != nil {
		return nil
	}
	d := &Disk{Endpoint: endpoint, Cause: cause, hostRoot: hostRoot}
	if strings.Contains(filepath.Base(path), "crio") {
		d.Runtime, d.layout = "cri-o", "cri-o"
		d.dirs = []string{"/run/containers/storage/overlay-containers", "/var/lib/containers/storage/overlay-containers"}
	} else {
		d.Runtime, d.layout = "containerd", "containerd"
		d.dirs = []string{filepath.Join(filepath.Dir(path), "io.containerd.runtime.v2.task", "k8s.io")}
	}
	for _, dir := range d.dirs {
		if fi, err := os.Stat(filepath.Join(hostRoot, dir)); err == nil && fi.IsDir() {
			return d
		}
	}
	return nil
}

// notAnswering is the error of what needs the runtime's API.
func (d *Disk) notAnswering(k *docker.Container, what string) error {
	return fmt.Errorf("%s: %s: runtime not answering (%s read from disk): %w", k.Subject(), what, d.Runtime, d.Cause)
}

// maxBundleFile bounds what is read of one file of a bundle.
const maxBundleFile = 4 << 20

// bundle is what ctrsh reads of an OCI bundle's config.json.
type bundle struct {
	Annotations map[string]string `json:"annotations"`
	Process     *struct {
		Env []string `json:"env"`
	} `json:"process"`
}

// readFile reads a file of a bundle, not following a symlink, bounded.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxBundleFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBundleFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxBundleFile)
	}
	return b, nil
}

// entry is one bundle found on disk.
type entry struct {
	id, dir string // dir below hostRoot
	ann     map[string]string
	env     []string
	mtime   time.Time
}

// scan reads every bundle's annotations.
func (d *Disk) scan() []entry {
	var out []entry
	seen := map[string]bool{}
	for _, dir := range d.dirs {
		ents, err := os.ReadDir(filepath.Join(d.hostRoot, dir))
		if err != nil {
			continue
		}
		for _, e := range ents {
			id := e.Name()
			if !proc.IsContainerID(id) || seen[id] || !e.IsDir() {
				continue
			}
			bdir := filepath.Join(dir, id)
			if d.layout == "cri-o" {
				bdir = filepath.Join(bdir, "userdata")
			}
			cfg := filepath.Join(d.hostRoot, bdir, "config.json")
			b, err := readFile(cfg)
			if err != nil {
				continue
			}
			var bd bundle
			if json.Unmarshal(b, &bd) != nil || bd.Annotations == nil {
				continue
			}
			var mtime time.Time
			if fi, err := os.Lstat(cfg); err == nil {
				mtime = fi.ModTime()
			}
			seen[id] = true
			en := entry{id: id, dir: bdir, ann: bd.Annotations, mtime: mtime}
			if bd.Process != nil {
				en.env = bd.Process.Env
			}
			out = append(out, en)
		}
	}
	return out
}

// text is an annotation as a name to show: bounded, one line.
func text(s string) string {
	if len(s) > 253 {
		s = s[:253]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// container turns a bundle into a Container; ok is false for a pod's
// sandbox (its pause container) and for what is no CRI container.
func (d *Disk) container(e entry, sandboxes map[string]entry) (*docker.Container, bool) {
	a := e.ann
	k := docker.NewContainer(&diskOps{d})
	k.ID = e.id
	k.Runtime = d.Runtime
	k.Source = docker.SourceDisk
	k.LogDriver = logs.CRIDriver
	k.Labels = map[string]string{}
	pod := &docker.Pod{}
	var pidfile string
	switch d.layout {
	case "containerd":
		if a["io.kubernetes.cri.container-type"] != "container" {
			return nil, false
		}
		k.Name = text(a["io.kubernetes.cri.container-name"])
		k.Image = familiarImage(text(a["io.kubernetes.cri.image-name"]))
		pod.Name = text(a["io.kubernetes.cri.sandbox-name"])
		pod.Namespace = text(a["io.kubernetes.cri.sandbox-namespace"])
		pod.UID = text(a["io.kubernetes.cri.sandbox-uid"])
		pod.ID = a["io.kubernetes.cri.sandbox-id"]
		if sb, ok := sandboxes[pod.ID]; ok && proc.IsContainerID(pod.ID) {
			if dir := sb.ann["io.kubernetes.cri.sandbox-log-directory"]; filepath.IsAbs(dir) && k.Name != "" {
				k.LogPath = newestLog(filepath.Join(d.hostRoot, dir, filepath.Base(k.Name)))
			}
		}
		k.Created = e.mtime
		pidfile = filepath.Join(d.hostRoot, e.dir, "init.pid")
	case "cri-o":
		if a["io.kubernetes.cri-o.ContainerType"] != "container" {
			return nil, false
		}
		k.Name = text(a[docker.LabelContainerName])
		pod.Name = text(a[docker.LabelPodName])
		pod.Namespace = text(a[docker.LabelPodNamespace])
		pod.UID = text(a[docker.LabelPodUID])
		pod.ID = a["io.kubernetes.cri-o.SandboxID"]
		k.Image = familiarImage(text(a["io.kubernetes.cri-o.ImageName"]))
		if p := a["io.kubernetes.cri-o.LogPath"]; filepath.IsAbs(p) {
			k.LogPath = filepath.Join(d.hostRoot, p)
		}
		if t, err := time.Parse(time.RFC3339Nano, a["io.kubernetes.cri-o.Created"]); err == nil {
			k.Created = t
		} else {
			k.Created = e.mtime
		}
		var labels map[string]string
		if json.Unmarshal([]byte(a["io.kubernetes.cri-o.Labels"]), &labels) == nil {
			for lk, lv := range labels {
				k.Labels[text(lk)] = text(lv)
			}
		}
		pidfile = filepath.Join(d.hostRoot, e.dir, "pidfile")
	}
	if k.Name == "" {
		return nil, false
	}
	if !proc.IsContainerID(pod.ID) {
		pod.ID = ""
	}
	if pod.Name != "" {
		k.Pod = pod
		k.Labels[docker.LabelPodName] = pod.Name
		k.Labels[docker.LabelPodNamespace] = pod.Namespace
		k.Labels[docker.LabelPodUID] = pod.UID
	}
	k.Labels[docker.LabelContainerName] = k.Name
	k.State, k.Status = "unknown", "Unknown (runtime not answering)"
	if pid := d.pidOf(pidfile, k.ID); pid > 0 {
		k.PID = pid
		k.State, k.Status = "running", "Running (runtime not answering)"
	} else if _, err := os.Stat(pidfile); err == nil {
		k.State, k.Status = "exited", "Exited (runtime not answering)"
	}
	raw, _ := json.Marshal(map[string]any{"source": "disk", "runtime": d.Runtime, "bundle": e.dir, "annotations": a,
		"spec": map[string]any{"process": map[string]any{"env": e.env}}})
	k.Raw = raw
	return k, true
}

// pidOf reads a pid file and returns the PID when that process lives and
// its cgroup names container id (else 0).
func (d *Disk) pidOf(path, id string) int {
	b, err := readFile(path)
	if err != nil || len(b) > 32 {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	fs, err := proc.NewFS(d.hostRoot)
	if err != nil {
		return 0
	}
	if got, _, err := fs.ContainerOf(pid); err != nil || got != id {
		return 0
	}
	return pid
}

// newestLog is the log file of the container whose logs are in dir
// (<attempt>.log, the kubelet's layout): the highest attempt's.
func newestLog(dir string) string {
	matches, _ := filepath.Glob(filepath.Join(globQuote(dir), "*.log"))
	best, bestN := "", -1
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(m), ".log"))
		if err == nil && n > bestN {
			best, bestN = m, n
		}
	}
	return best
}

func globQuote(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(p)
}

// list reads every container of the bundles.
func (d *Disk) list() []*docker.Container {
	entries := d.scan()
	sandboxes := map[string]entry{}
	for _, e := range entries {
		sandboxes[e.id] = e
	}
	var out []*docker.Container
	for _, e := range entries {
		if k, ok := d.container(e, sandboxes); ok {
			out = append(out, k)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

// List is the containers on disk (running ones only unless o.All), with
// o's filters.
func (d *Disk) List(ctx context.Context, o ListOptions) ([]*docker.Container, error) {
	var out []*docker.Container
	for _, k := range d.list() {
		if !o.All && k.State != "running" {
			continue
		}
		if matchContainer(o.Filters, k) {
			out = append(out, k)
		}
	}
	return out, ctx.Err()
}

// matchContainer applies List's filters to a Container read from disk.
func matchContainer(filters map[string][]string, k *docker.Container) bool {
	p := k.PodOf()
	for key, vs := range filters {
		if len(vs) == 0 {
			continue
		}
		ok := false
		for _, v := range vs {
			switch key {
			case "id":
				ok = ok || strings.HasPrefix(k.ID, v)
			case "name":
				ok = ok || strings.Contains(k.Name, v)
			case "label":
				name, val, hasVal := strings.Cut(v, "=")
				got, present := k.Labels[name]
				ok = ok || (present && (!hasVal || got == val))
			case "status":
				ok = ok || k.State == v
			case "pod":
				ok = ok || (p != nil && p.Name == v)
			case "namespace":
				ok = ok || (p != nil && p.Namespace == v)
			case "ancestor":
				ok = ok || k.Image == v
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Lookup finds ref among the containers on disk, as Client.Lookup does.
func (d *Disk) Lookup(ctx context.Context, ref string) (*docker.Container, error) {
	subject := fmt.Sprintf("container %q", ref)
	all := d.list()
	byID := map[string]*docker.Container{}
	for _, k := range all {
		byID[k.ID] = k
	}
	if k, ok := byID[ref]; ok {
		return k, nil
	}
	var byName, byPod, byPrefix []*docker.Container
	for _, k := range all {
		p := k.PodOf()
		switch {
		case k.Name == ref, p != nil && (ref == p.Name+"/"+k.Name || ref == p.String()+"/"+k.Name):
			byName = append(byName, k)
		case p != nil && (ref == p.Name || ref == p.String()):
			byPod = append(byPod, k)
		case isHex(ref) && strings.HasPrefix(k.ID, ref):
			byPrefix = append(byPrefix, k)
		}
	}
	for _, m := range [][]*docker.Container{byName, byPod, byPrefix} {
		// Of a restarted container's attempts, the running one.
		if len(m) > 1 {
			var up []*docker.Container
			for _, k := range m {
				if k.State == "running" {
					up = append(up, k)
				}
			}
			if len(up) > 0 {
				m = up
			}
		}
		switch {
		case len(m) == 1:
			return m[0], nil
		case len(m) > 1:
			var cands []string
			for _, k := range m {
				cands = append(cands, fmt.Sprintf("%.12s (%s/%s)", k.ID, k.PodOf(), k.Name))
			}
			sort.Strings(cands)
			return nil, fmt.Errorf("%s: %w: matches %s", subject, docker.ErrAmbiguous, strings.Join(cands, ", "))
		}
	}
	return nil, fmt.Errorf("%s: %w", subject, docker.ErrNoSuchContainer)
}

// diskOps serve the containers read from disk: Refresh reads the bundle
// again; what needs the runtime's API says it does not answer.
type diskOps struct{ d *Disk }

func (o *diskOps) Refresh(ctx context.Context, k *docker.Container) error {
	n, err := o.d.Lookup(ctx, k.ID)
	if err != nil {
		if errors.Is(err, docker.ErrNoSuchContainer) {
			return fmt.Errorf("%s: no such container", k.Subject())
		}
		return err
	}
	*k = *n
	return nil
}

func (o *diskOps) Exec(ctx context.Context, k *docker.Container, argv []string, eo docker.ExecOptions) (*docker.ExecResult, error) {
	return nil, o.d.notAnswering(k, "exec")
}

func (o *diskOps) Lifecycle(ctx context.Context, k *docker.Container, a docker.Action) error {
	return o.d.notAnswering(k, a.Name)
}

func (o *diskOps) Wait(ctx context.Context, k *docker.Container) (int, error) {
	return 0, o.d.notAnswering(k, "wait")
}

// Events is c:events() of a container read from disk: the runtime's
// events need it to answer.
func (o *diskOps) Events(L *lua.LState, k *docker.Container, n int) int {
	return luax.Fail(L, o.d.notAnswering(k, "events"))
}
