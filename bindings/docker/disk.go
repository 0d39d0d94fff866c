package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/proc"
)

// When the engine does not answer, its containers are read from its state
// on disk: <data root>/containers/<id>/config.v2.json (name, image,
// labels, state, restart count, log path) and hostconfig.json (restart
// policy, log driver), which dockerd writes at each change of state. What
// the files say of a container's life is then corrected by the kernel:
// its processes are those whose cgroup names its id (the engine's last word
// may be stale: it was not there to see a death), its init the one whose
// parent is not among them, and it is paused when its freezer is frozen.
//
// The files are written by the engine but describe containers: names,
// labels and paths in them are the containers' to choose. They are read
// as root's regular files (O_NOFOLLOW, bounded sizes), a log path is used
// only inside the container's own directory of the data root, and PIDs
// are pinned and checked as the engine's are (see Pin).

// maxDiskFile bounds the files read from the state on disk.
const maxDiskFile = 16 << 20

// diskConfig is what ctrsh reads of config.v2.json.
type diskConfig struct {
	ID           string
	Created      time.Time
	Name         string
	Image        string // the image id
	LogPath      string
	RestartCount int
	Config       struct {
		Image  string
		Labels map[string]string
		Tty    bool
	}
	State struct {
		Running, Paused, Restarting, OOMKilled, RemovalInProgress, Dead bool
		Pid, ExitCode                                                   int
		StartedAt, FinishedAt                                           time.Time
		Health                                                          *struct{ Status string }
	}
}

// diskHostConfig is what ctrsh reads of hostconfig.json.
type diskHostConfig struct {
	RestartPolicy struct {
		Name              string
		MaximumRetryCount int
	}
	LogConfig struct{ Type string }
}

// readOwned reads file name of directory dir: a regular file owned by
// root, not a link, at most maxDiskFile bytes.
func readOwned(dir, name string) ([]byte, error) {
	b, err := readOwnedInto(dir, name, nil)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ownedBufs are the buffers the files read for one container (its
// config.v2.json, 2-3 KB) are read into: docker.stats reads a hundred of
// them, and a fresh buffer each is a fresh page each.
var ownedBufs = sync.Pool{New: func() any { return new([]byte) }}

// withOwned is readOwned into a pooled buffer, handed to fn, which must
// not keep it.
func withOwned(dir, name string, fn func([]byte) error) error {
	bp := ownedBufs.Get().(*[]byte)
	defer ownedBufs.Put(bp)
	b, err := readOwnedInto(dir, name, (*bp)[:0])
	if cap(b) <= 64<<10 {
		*bp = b
	}
	if err != nil {
		return err
	}
	return fn(b)
}

// readOwnedInto is readOwned appending to b[:0], grown when the file
// needs more room than it has.
func readOwnedInto(dir, name string, b []byte) ([]byte, error) {
	fd, st, err := openOwnedFD(dir, name)
	if err != nil {
		return b, err
	}
	defer unix.Close(fd)
	path := filepath.Join(dir, name)
	if st.Size > maxDiskFile {
		return b, fmt.Errorf("%s: larger than %d bytes", path, maxDiskFile)
	}
	// Sized from fstat, with room to see the end (or a file that grew).
	if want := int(st.Size) + 512; cap(b) < want {
		b = make([]byte, 0, want)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return b, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		if b = b[:len(b)+n]; len(b) > maxDiskFile {
			return b, fmt.Errorf("%s: larger than %d bytes", path, maxDiskFile)
		}
	}
}

// openOwned opens file name of directory dir for reading, refusing links,
// what is not a regular file (without blocking on a FIFO) and files not
// owned by root. dir itself must not be a link.
func openOwned(dir, name string) (*os.File, error) {
	fd, _, err := openOwnedFD(dir, name)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fcntl", Path: filepath.Join(dir, name), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, name)), nil
}

// openOwnedFD is openOwned's descriptor (still O_NONBLOCK, which reads of
// a regular file ignore) and what fstat said of it.
func openOwnedFD(dir, name string) (int, *unix.Stat_t, error) {
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	path := filepath.Join(dir, name)
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("%s: not a regular file of root's", path)
	}
	return fd, &st, nil
}

// diskView is one reading of the state on disk.
type diskView struct {
	e        *Engine
	hostRoot string
	root     string // the data root, on the host
	how      string // how it was found
}

// disk returns a view of e's state on disk, or why there is none.
func (e *Engine) diskView(hostRoot string) (*diskView, error) {
	if e.Runtime() != "docker" {
		return nil, fmt.Errorf("docker engine %s: the state on disk of %s is not read by ctrsh", e.Host, e.Runtime())
	}
	root, how, err := e.DataRoot(hostRoot)
	if err != nil {
		return nil, err
	}
	return &diskView{e: e, hostRoot: hostRoot, root: root, how: how}, nil
}

func (d *diskView) dir(id string) string {
	return filepath.Join(d.hostRoot, d.root, "containers", id)
}

// ids lists the containers on disk.
func (d *diskView) ids() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(d.hostRoot, d.root, "containers"))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ent := range ents {
		if ent.IsDir() && proc.IsContainerID(ent.Name()) {
			ids = append(ids, ent.Name())
		}
	}
	return ids, nil
}

// read reads container id as its files say, before the kernel's
// correction (see live).
func (d *diskView) read(id string) (*Container, error) {
	cfg, err := d.readConfig(id)
	if err != nil {
		return nil, err
	}
	var hc diskHostConfig
	if b, err := readOwned(d.dir(id), "hostconfig.json"); err == nil {
		_ = json.Unmarshal(b, &hc)
	}
	return d.container(id, cfg, &hc), nil
}

// readConfig reads container id's config.v2.json.
func (d *diskView) readConfig(id string) (*diskConfig, error) {
	dir := d.dir(id)
	var cfg diskConfig
	err := withOwned(dir, "config.v2.json", func(b []byte) error {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "config.v2.json"), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cfg.ID != id {
		return nil, fmt.Errorf("%s: names container %.12q, not %.12s", filepath.Join(dir, "config.v2.json"), cfg.ID, id)
	}
	return &cfg, nil
}

// container is container id as its files say, before the kernel's
// correction (see live).
func (d *diskView) container(id string, cfg *diskConfig, hc *diskHostConfig) *Container {
	c := &Container{
		ID:            id,
		Name:          strings.TrimPrefix(cfg.Name, "/"),
		Image:         cfg.Config.Image,
		ImageID:       cfg.Image,
		Created:       cfg.Created,
		StartedAt:     cfg.State.StartedAt,
		Labels:        cfg.Config.Labels,
		RestartCount:  cfg.RestartCount,
		ExitCode:      cfg.State.ExitCode,
		OOMKilled:     cfg.State.OOMKilled,
		TTY:           cfg.Config.Tty,
		LogDriver:     hc.LogConfig.Type,
		LogPath:       cfg.LogPath,
		RestartPolicy: hc.RestartPolicy.Name,
		PID:           cfg.State.Pid,
		Source:        SourceDisk,
		Runtime:       "docker",
		engine:        d.e,
		dataRoot:      d.root,
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	st := &container.State{
		Running: cfg.State.Running, Paused: cfg.State.Paused, Restarting: cfg.State.Restarting,
		ExitCode: cfg.State.ExitCode, Pid: cfg.State.Pid,
	}
	if !cfg.State.StartedAt.IsZero() {
		st.StartedAt = cfg.State.StartedAt.Format(time.RFC3339Nano)
	}
	if !cfg.State.FinishedAt.IsZero() {
		st.FinishedAt = cfg.State.FinishedAt.Format(time.RFC3339Nano)
	}
	if cfg.State.Health != nil && cfg.State.Health.Status != "" {
		st.Health = &container.Health{Status: container.HealthStatus(cfg.State.Health.Status)}
	}
	switch {
	case cfg.State.Running && cfg.State.Paused:
		st.Status = container.StatePaused
	case cfg.State.Running && cfg.State.Restarting:
		st.Status = container.StateRestarting
	case cfg.State.Running:
		st.Status = container.StateRunning
	case cfg.State.RemovalInProgress:
		st.Status = container.StateRemoving
	case cfg.State.Dead:
		st.Status = container.StateDead
	case cfg.State.StartedAt.IsZero():
		st.Status = container.StateCreated
	default:
		st.Status = container.StateExited
	}
	c.onDisk = st
	c.State = string(st.Status)
	return c
}

// processes maps each container id to its processes on the host, from one
// pass over /proc/*/cgroup.
func processes(ctx context.Context, hostRoot string) (map[string][]int, error) {
	fs, err := proc.NewFS(hostRoot)
	if err != nil {
		return nil, err
	}
	pids, err := fs.PIDs()
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id, _, err := fs.ContainerOf(pid)
		if err != nil || id == "" {
			continue
		}
		out[id] = append(out[id], pid)
	}
	return out, nil
}

// live corrects c's state with the kernel's: pids are the container's
// processes on the host (none: it is not running, whatever the file said).
func (d *diskView) live(c *Container, pids []int) {
	st := *c.onDisk
	if len(pids) == 0 {
		if st.Running {
			// It died while the engine was not looking.
			st.Running, st.Paused, st.Restarting = false, false, false
			st.Status = container.StateExited
			st.FinishedAt = ""
		}
		st.Pid = 0
	} else {
		st.Running, st.Restarting, st.Dead = true, false, false
		st.Pid = initOf(d.hostRoot, c.PID, pids)
		st.Paused = false
		if cg, err := cgroup.ForPID(d.hostRoot, st.Pid); err == nil {
			if frozen, ok, _ := cg.Frozen(); ok {
				st.Paused = frozen
			} else {
				st.Paused = c.onDisk.Paused
			}
		}
		st.Status = container.StateRunning
		if st.Paused {
			st.Status = container.StatePaused
		}
	}
	c.State = string(st.Status)
	c.PID = st.Pid
	c.Status = humanStatus(&st, time.Now())
	if len(pids) == 0 && c.onDisk.Running {
		c.Status = "Exited (?): its processes are gone"
	}
}

// initOf picks the container's init among its processes: the PID the
// engine wrote if it is one of them, else the one whose parent is not
// (the runtime's shim is outside the container).
func initOf(hostRoot string, hint int, pids []int) int {
	in := make(map[int]bool, len(pids))
	for _, p := range pids {
		in[p] = true
	}
	if in[hint] {
		return hint
	}
	sort.Ints(pids)
	fs, err := proc.NewFS(hostRoot)
	if err == nil {
		for _, p := range pids {
			if pr, err := fs.Get(p); err == nil && !in[pr.PPID] {
				return p
			}
		}
	}
	return pids[0]
}

// list returns the containers on disk as docker ps would list them.
func (d *diskView) list(ctx context.Context, o ListOptions) ([]*Container, error) {
	m, err := compileFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	ids, err := d.ids()
	if err != nil {
		return nil, fmt.Errorf("docker containers: reading %s: %w", d.root, err)
	}
	procs, err := processes(ctx, d.hostRoot)
	if err != nil {
		return nil, err
	}
	all := o.All || len(o.Filters["status"]) > 0
	var out []*Container
	for _, id := range ids {
		c, err := d.read(id)
		if err != nil {
			continue // removed meanwhile, or not a container's directory
		}
		d.live(c, procs[id])
		if !all && c.PID == 0 {
			continue
		}
		if m.match(c) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// lookup finds ref as the engine resolves it: a full id, a name, a unique
// id prefix.
func (d *diskView) lookup(ctx context.Context, ref string) (*Container, error) {
	subject := fmt.Sprintf("container %q", ref)
	ids, err := d.ids()
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", subject, d.root, err)
	}
	var byName *Container
	var prefixed []*Container
	for _, id := range ids {
		if id != ref && !strings.HasPrefix(id, ref) {
			// Only the name can match: read it.
			c, err := d.read(id)
			if err == nil && c.Name == strings.TrimPrefix(ref, "/") {
				byName = c
			}
			continue
		}
		c, err := d.read(id)
		if err != nil {
			continue
		}
		if id == ref {
			return d.withLive(ctx, c)
		}
		if c.Name == strings.TrimPrefix(ref, "/") {
			byName = c
		}
		prefixed = append(prefixed, c)
	}
	switch {
	case byName != nil:
		return d.withLive(ctx, byName)
	case len(prefixed) == 1:
		return d.withLive(ctx, prefixed[0])
	case len(prefixed) > 1:
		var cands []string
		for _, c := range prefixed {
			cands = append(cands, fmt.Sprintf("%.12s (%s)", c.ID, c.Name))
		}
		sort.Strings(cands)
		return nil, fmt.Errorf("%s: %w: matches %s", subject, ErrAmbiguous, strings.Join(cands, ", "))
	}
	return nil, fmt.Errorf("%s: %w", subject, ErrNoSuchContainer)
}

// withLive corrects one container with its processes.
func (d *diskView) withLive(ctx context.Context, c *Container) (*Container, error) {
	procs, err := processes(ctx, d.hostRoot)
	if err != nil {
		return nil, err
	}
	d.live(c, procs[c.ID])
	return c, nil
}

// filterSet is docker ps's filters, applied to containers read from disk.
type filterSet struct {
	ids, names, statuses, ancestors, labels, exited, health []string
	nameREs                                                 []*regexp.Regexp
}

// compileFilters checks the filters the state on disk can answer.
func compileFilters(f map[string][]string) (*filterSet, error) {
	m := &filterSet{}
	for k, vs := range f {
		switch k {
		case "id":
			m.ids = vs
		case "name":
			m.names = vs
			for _, v := range vs {
				if re, err := regexp.Compile(v); err == nil {
					m.nameREs = append(m.nameREs, re)
				}
			}
		case "status":
			m.statuses = vs
		case "ancestor":
			m.ancestors = vs
		case "label":
			m.labels = vs
		case "exited":
			m.exited = vs
		case "health":
			m.health = vs
		default:
			return nil, fmt.Errorf("docker containers: filter %q needs the engine (from disk: id, name, status, ancestor, label, exited, health)", k)
		}
	}
	return m, nil
}

// match is docker ps's: values of one key OR'ed, keys AND'ed; labels all
// must match.
func (m *filterSet) match(c *Container) bool {
	any := func(vs []string, ok func(string) bool) bool {
		if len(vs) == 0 {
			return true
		}
		for _, v := range vs {
			if ok(v) {
				return true
			}
		}
		return false
	}
	if !any(m.ids, func(v string) bool { return strings.HasPrefix(c.ID, v) }) {
		return false
	}
	if len(m.names) > 0 {
		ok := false
		for _, v := range m.names {
			ok = ok || c.Name == strings.TrimPrefix(v, "/")
		}
		for _, re := range m.nameREs {
			ok = ok || re.MatchString("/"+c.Name)
		}
		if !ok {
			return false
		}
	}
	if !any(m.statuses, func(v string) bool { return v == c.State }) {
		return false
	}
	if !any(m.ancestors, func(v string) bool {
		return v == c.Image || v+":latest" == c.Image || c.Image+":latest" == v ||
			(len(v) >= 4 && strings.HasPrefix(strings.TrimPrefix(c.ImageID, "sha256:"), strings.TrimPrefix(v, "sha256:")))
	}) {
		return false
	}
	for _, l := range m.labels {
		k, v, hasV := strings.Cut(l, "=")
		got, ok := c.Labels[k]
		if !ok || (hasV && got != v) {
			return false
		}
	}
	if !any(m.exited, func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && c.State == "exited" && c.ExitCode == n
	}) {
		return false
	}
	if !any(m.health, func(v string) bool {
		h := "none"
		if c.onDisk != nil && c.onDisk.Health != nil {
			h = string(c.onDisk.Health.Status)
		}
		return v == h
	}) {
		return false
	}
	return true
}

// OpenLog opens c's json-file log (suffix "" for the current file, ".1"
// and on for rotated ones) for reading without the engine. The log path
// is the container's to say (it is in its files on disk), so it is used
// only when it is a file directly in the container's own directory of the
// data root, opened without following links.
func (c *Container) OpenLog(suffix string) (*os.File, error) {
	hostRoot := "/"
	if c.engine != nil {
		hostRoot = c.engine.hostRoot
	}
	root := c.dataRoot
	if root == "" {
		if c.engine == nil {
			return nil, fmt.Errorf("%s: logs: no data root", c.Subject())
		}
		r, _, err := c.engine.DataRoot(hostRoot)
		if err != nil {
			return nil, fmt.Errorf("%s: logs: %w", c.Subject(), err)
		}
		root = r
	}
	if c.LogDriver != "" && c.LogDriver != "json-file" {
		return nil, fmt.Errorf("%s: logs: the %s log driver's logs are read by the engine only", c.Subject(), c.LogDriver)
	}
	dir := filepath.Join(root, "containers", c.ID)
	if c.LogPath == "" || filepath.Dir(filepath.Clean(c.LogPath)) != dir || strings.ContainsAny(filepath.Base(c.LogPath), "/\x00") {
		return nil, fmt.Errorf("%s: logs: log path %q is not in %s", c.Subject(), c.LogPath, dir)
	}
	f, err := openOwned(filepath.Join(hostRoot, dir), filepath.Base(c.LogPath)+suffix)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: logs: %w", c.Subject(), err)
	}
	return f, nil
}

// fallback returns the view of the state on disk that replaces the engine
// after cause (a notAnswering error), and remembers that it was used (for
// the notice on stderr). Without one, the error says why, after cause.
func (e *Engine) fallback(cause error) (*diskView, error) {
	d, err := e.diskView(e.hostRoot)
	if err != nil {
		return nil, fmt.Errorf("%w; and its state on disk cannot be read instead: %v", cause, err)
	}
	e.fellBack(d.root)
	return d, nil
}
