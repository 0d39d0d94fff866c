package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/logs"
)

// Pods lists the pod sandboxes by id.
func (c *Client) Pods(ctx context.Context) (map[string]*runtimeapi.PodSandbox, error) {
	cctx, cancel := call(ctx)
	defer cancel()
	res, err := c.rt.ListPodSandbox(cctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return nil, c.err(ctx, err)
	}
	out := make(map[string]*runtimeapi.PodSandbox, len(res.GetItems()))
	for _, p := range res.GetItems() {
		if p.GetId() != "" {
			out[p.GetId()] = p
		}
	}
	return out, nil
}

// sandbox is the pod sandbox id (nil when the runtime has none).
func (c *Client) sandbox(ctx context.Context, id string) (*runtimeapi.PodSandbox, error) {
	cctx, cancel := call(ctx)
	defer cancel()
	res, err := c.rt.ListPodSandbox(cctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{Id: id}})
	if err != nil {
		return nil, c.err(ctx, err)
	}
	for _, p := range res.GetItems() {
		if p.GetId() == id {
			return p, nil
		}
	}
	return nil, nil
}

// list is ListContainers (every state) in one call.
func (c *Client) list(ctx context.Context) ([]*runtimeapi.Container, error) {
	cctx, cancel := call(ctx)
	defer cancel()
	res, err := c.rt.ListContainers(cctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return nil, c.err(ctx, err)
	}
	out := res.GetContainers()[:0]
	for _, k := range res.GetContainers() {
		if k.GetId() != "" { // a runtime's bug must not become a lookup of ""
			out = append(out, k)
		}
	}
	return out, nil
}

// status is ContainerStatus, verbose (its info holds the init's PID).
func (c *Client) status(ctx context.Context, id string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	if id == "" {
		return nil, errors.New("cri: empty container id")
	}
	cctx, cancel := call(ctx)
	defer cancel()
	res, err := c.rt.ContainerStatus(cctx, &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: verbose})
	if err != nil {
		return nil, err
	}
	if res.GetStatus() == nil {
		return nil, errors.New("the runtime's answer has no status")
	}
	return res, nil
}

// Container reads the container id from the runtime, with its pod.
func (c *Client) Container(ctx context.Context, id string) (*docker.Container, error) {
	k := docker.NewContainer(c.ops())
	k.ID = id
	if err := c.refresh(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// refresh re-reads k from the runtime.
func (c *Client) refresh(ctx context.Context, k *docker.Container) error {
	subject := k.Subject()
	if k.Name == "" {
		subject = fmt.Sprintf("container %.12s", k.ID)
	}
	res, err := c.status(ctx, k.ID, true)
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%s: %w", subject, docker.ErrNoSuchContainer)
		}
		return fmt.Errorf("%s: %w", subject, c.err(ctx, err))
	}
	info := parseInfo(res.GetInfo())
	labels := res.GetStatus().GetLabels()
	pod := k.Pod
	if pod == nil || pod.ID == "" || pod.ID != info.SandboxID {
		pod = podOf(labels, nil)
		if info.SandboxID != "" {
			if sb, err := c.sandbox(ctx, info.SandboxID); err == nil {
				pod = podOf(labels, sb)
			}
		}
		if pod != nil && pod.ID == "" {
			pod.ID = info.SandboxID
		}
	}
	fill(k, c.Runtime, res.GetStatus(), info, pod, time.Now())
	k.Raw = rawDocument(res.GetStatus(), res.GetInfo())
	return nil
}

// verboseInfo is what ctrsh reads of a verbose status's info["info"] (the
// same keys in containerd's and CRI-O's).
type verboseInfo struct {
	SandboxID string `json:"sandboxID"`
	PID       int    `json:"pid"`
}

func parseInfo(info map[string]string) verboseInfo {
	var v verboseInfo
	if s := info["info"]; s != "" {
		_ = json.Unmarshal([]byte(s), &v)
	}
	if v.PID < 0 {
		v.PID = 0
	}
	return v
}

// podOf is a container's pod: from the kubelet's labels, completed by its
// sandbox's metadata.
func podOf(labels map[string]string, sb *runtimeapi.PodSandbox) *docker.Pod {
	p := &docker.Pod{
		Name:      labels[docker.LabelPodName],
		Namespace: labels[docker.LabelPodNamespace],
		UID:       labels[docker.LabelPodUID],
	}
	if sb != nil {
		p.ID = sb.GetId()
		if m := sb.GetMetadata(); m != nil {
			if p.Name == "" {
				p.Name = m.GetName()
			}
			if p.Namespace == "" {
				p.Namespace = m.GetNamespace()
			}
			if p.UID == "" {
				p.UID = m.GetUid()
			}
		}
	}
	if p.Name == "" {
		return nil
	}
	return p
}

// stateName is a CRI state in the words of docker ps.
func stateName(s runtimeapi.ContainerState) string {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return "created"
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return "running"
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return "exited"
	}
	return "unknown"
}

// familiarImage is an image name as docker shows it: without docker.io/
// and library/.
func familiarImage(s string) string {
	s = strings.TrimPrefix(s, "docker.io/")
	return strings.TrimPrefix(s, "library/")
}

// containerName is a container's name: the kubelet's label, else its CRI
// metadata.
func containerName(labels map[string]string, md *runtimeapi.ContainerMetadata) string {
	if n := labels[docker.LabelContainerName]; n != "" {
		return n
	}
	return md.GetName()
}

// fill sets k's snapshot fields from a status.
func fill(k *docker.Container, runtime string, st *runtimeapi.ContainerStatus, info verboseInfo, pod *docker.Pod, now time.Time) {
	k.ID = st.GetId()
	k.Name = containerName(st.GetLabels(), st.GetMetadata())
	k.Image = familiarImage(st.GetImage().GetImage())
	k.ImageID = st.GetImageRef()
	k.State = stateName(st.GetState())
	k.Created = nanoTime(st.GetCreatedAt())
	k.StartedAt = nanoTime(st.GetStartedAt())
	k.FinishedAt = nanoTime(st.GetFinishedAt())
	k.ExitCode = int(st.GetExitCode())
	k.OOMKilled = st.GetReason() == "OOMKilled"
	k.RestartCount = int(st.GetMetadata().GetAttempt())
	k.Labels = st.GetLabels()
	if k.Labels == nil {
		k.Labels = map[string]string{}
	}
	k.PID = 0
	if k.State == "running" {
		k.PID = info.PID
	}
	k.LogDriver = logs.CRIDriver
	k.LogPath = st.GetLogPath()
	k.Runtime = runtime
	k.Source = docker.SourceEngine
	k.Pod = pod
	k.Status = humanStatus(k.State, k.StartedAt, k.FinishedAt, k.ExitCode, now)
}

func nanoTime(ns int64) time.Time {
	if ns <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// humanStatus is the Status column of docker ps for a CRI container.
func humanStatus(state string, started, finished time.Time, code int, now time.Time) string {
	switch state {
	case "running":
		return "Up " + units.HumanDuration(now.Sub(started))
	case "exited":
		if finished.IsZero() {
			return fmt.Sprintf("Exited (%d)", code)
		}
		return fmt.Sprintf("Exited (%d) %s ago", code, units.HumanDuration(now.Sub(finished)))
	case "created":
		return "Created"
	}
	return "Unknown"
}

// rawDocument is c:inspect() of a CRI container: the status with its
// enums named, and the verbose info decoded.
func rawDocument(st *runtimeapi.ContainerStatus, info map[string]string) json.RawMessage {
	doc := map[string]any{}
	if b, err := json.Marshal(st); err == nil {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			m["state"] = st.GetState().String()
			doc["status"] = m
		}
	}
	infos := map[string]any{}
	for k, v := range info {
		var x any
		if json.Unmarshal([]byte(v), &x) == nil {
			infos[k] = x
		} else {
			infos[k] = v
		}
	}
	doc["info"] = infos
	b, _ := json.Marshal(doc)
	return b
}

// ListOptions select the containers of List.
type ListOptions struct {
	All     bool                // every state, not only running ones
	Filters map[string][]string // see Match
}

// List returns the containers, each read with its status (for its PID,
// in parallel) and its pod.
func (c *Client) List(ctx context.Context, o ListOptions) ([]*docker.Container, error) {
	items, err := c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("cri containers: %w", err)
	}
	pods, err := c.Pods(ctx)
	if err != nil {
		return nil, fmt.Errorf("cri containers: %w", err)
	}
	var picked []*runtimeapi.Container
	for _, k := range items {
		if !o.All && k.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
			continue
		}
		if !matchItem(o.Filters, k, pods[k.GetPodSandboxId()]) {
			continue
		}
		picked = append(picked, k)
	}
	out := make([]*docker.Container, len(picked))
	errs := make([]error, len(picked))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	now := time.Now()
	for i, k := range picked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res, err := c.status(ctx, k.GetId(), k.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING)
			if err != nil {
				if !isNotFound(err) { // removed since the list
					errs[i] = fmt.Errorf("container %q: %w", containerName(k.GetLabels(), k.GetMetadata()), c.err(ctx, err))
				}
				return
			}
			pod := podOf(res.GetStatus().GetLabels(), pods[k.GetPodSandboxId()])
			d := docker.NewContainer(c.ops())
			fill(d, c.Runtime, res.GetStatus(), parseInfo(res.GetInfo()), pod, now)
			d.Raw = rawDocument(res.GetStatus(), res.GetInfo())
			out[i] = d
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, d := range out {
		if d != nil {
			kept = append(kept, d)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Created.After(kept[j].Created) })
	return kept, nil
}

// matchItem applies filters to a listed container: docker ps's id, name,
// label and status, and the pod's name and namespace (pod, namespace).
// Values of one key: any; different keys: all.
func matchItem(filters map[string][]string, k *runtimeapi.Container, sb *runtimeapi.PodSandbox) bool {
	pod := podOf(k.GetLabels(), sb)
	for key, vs := range filters {
		if len(vs) == 0 {
			continue
		}
		ok := false
		for _, v := range vs {
			switch key {
			case "id":
				ok = ok || strings.HasPrefix(k.GetId(), v)
			case "name":
				ok = ok || strings.Contains(containerName(k.GetLabels(), k.GetMetadata()), v)
			case "label":
				name, val, hasVal := strings.Cut(v, "=")
				got, present := k.GetLabels()[name]
				ok = ok || (present && (!hasVal || got == val))
			case "status":
				ok = ok || stateName(k.GetState()) == v
			case "pod":
				ok = ok || (pod != nil && pod.Name == v)
			case "namespace":
				ok = ok || (pod != nil && pod.Namespace == v)
			case "ancestor":
				ok = ok || familiarImage(k.GetImage().GetImage()) == v || k.GetImage().GetImage() == v || k.GetImageRef() == v
			default:
				ok = false
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// FilterKeys are the filters List knows.
var FilterKeys = []string{"id", "name", "label", "status", "pod", "namespace", "ancestor"}

// Lookup finds the container ref names: its id, a unique id prefix, its
// name, "pod/name" or "namespace/pod/name", or the name of a pod that has
// one container. Of the attempts of one container of one pod (a restarted
// container keeps its exited predecessor), the newest is meant. The
// errors are `container "x": no such container` and `container "x":
// ambiguous: matches ...`, wrapping docker.ErrNoSuchContainer and
// docker.ErrAmbiguous.
func (c *Client) Lookup(ctx context.Context, ref string) (*docker.Container, error) {
	subject := fmt.Sprintf("container %q", ref)
	if ref == "" {
		return nil, fmt.Errorf("%s: %w", subject, docker.ErrNoSuchContainer)
	}
	items, err := c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	pods, err := c.Pods(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	k, err := resolve(ref, items, newest(items, pods), pods)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	d := docker.NewContainer(c.ops())
	d.ID = k.GetId()
	d.Name = containerName(k.GetLabels(), k.GetMetadata())
	d.Pod = podOf(k.GetLabels(), pods[k.GetPodSandboxId()])
	if err := c.refresh(ctx, d); err != nil {
		if errors.Is(err, docker.ErrNoSuchContainer) {
			return nil, fmt.Errorf("%s: %w", subject, docker.ErrNoSuchContainer)
		}
		return nil, err
	}
	return d, nil
}

// newest keeps, of the containers with the same name in the same pod, the
// running one, else the newest.
func newest(items []*runtimeapi.Container, pods map[string]*runtimeapi.PodSandbox) []*runtimeapi.Container {
	type key struct{ ns, pod, name string }
	best := map[key]*runtimeapi.Container{}
	var order []key
	for _, k := range items {
		p := podOf(k.GetLabels(), pods[k.GetPodSandboxId()])
		kk := key{name: containerName(k.GetLabels(), k.GetMetadata())}
		if p != nil {
			kk.ns, kk.pod = p.Namespace, p.Name
		} else {
			kk.pod = k.GetPodSandboxId()
		}
		b, ok := best[kk]
		if !ok {
			order = append(order, kk)
		}
		running := func(x *runtimeapi.Container) bool {
			return x.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING
		}
		if !ok || (running(k) && !running(b)) || (running(k) == running(b) && k.GetCreatedAt() > b.GetCreatedAt()) {
			best[kk] = k
		}
	}
	out := make([]*runtimeapi.Container, 0, len(order))
	for _, kk := range order {
		out = append(out, best[kk])
	}
	return out
}

// resolve picks the container ref names (see Lookup): ids among all,
// names among the newest attempts.
func resolve(ref string, all, items []*runtimeapi.Container, pods map[string]*runtimeapi.PodSandbox) (*runtimeapi.Container, error) {
	describe := func(k *runtimeapi.Container) string {
		name := containerName(k.GetLabels(), k.GetMetadata())
		if p := podOf(k.GetLabels(), pods[k.GetPodSandboxId()]); p != nil {
			name = p.String() + "/" + name
		}
		return fmt.Sprintf("%.12s (%s)", k.GetId(), name)
	}
	pick := func(m []*runtimeapi.Container) (*runtimeapi.Container, error) {
		if len(m) == 1 {
			return m[0], nil
		}
		var cands []string
		for _, k := range m {
			cands = append(cands, describe(k))
		}
		sort.Strings(cands)
		return nil, fmt.Errorf("%w: matches %s", docker.ErrAmbiguous, strings.Join(cands, ", "))
	}
	for _, k := range all {
		if k.GetId() == ref {
			return k, nil
		}
	}
	var byName, byPod []*runtimeapi.Container
	podCount := map[string]int{}
	for _, k := range items {
		if p := podOf(k.GetLabels(), pods[k.GetPodSandboxId()]); p != nil {
			podCount[p.String()]++
		}
	}
	for _, k := range items {
		name := containerName(k.GetLabels(), k.GetMetadata())
		p := podOf(k.GetLabels(), pods[k.GetPodSandboxId()])
		switch {
		case name == ref:
			byName = append(byName, k)
		case p != nil && (ref == p.Name+"/"+name || ref == p.String()+"/"+name):
			byName = append(byName, k)
		case p != nil && (ref == p.Name || ref == p.String()):
			byPod = append(byPod, k)
		}
	}
	if len(byName) > 0 {
		return pick(byName)
	}
	if len(byPod) > 0 {
		// A pod's name means its container when it has only one.
		return pick(byPod)
	}
	var byPrefix []*runtimeapi.Container
	if isHex(ref) {
		for _, k := range all {
			if strings.HasPrefix(k.GetId(), ref) {
				byPrefix = append(byPrefix, k)
			}
		}
	}
	if len(byPrefix) > 0 {
		return pick(byPrefix)
	}
	return nil, docker.ErrNoSuchContainer
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
