package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/bindings/trust"
)

// Where the engine keeps its state on disk (its data root) is found, for
// a unix:// host, in this order:
//
//  1. the dockerd that serves the host (its -H/--host, or "hosts" in its
//     config file, names the socket; a dockerd with neither serves
//     /var/run/docker.sock), found as the process the kernel says holds
//     the socket (SO_PEERCRED), else among all processes: its --data-root
//     (or the old -g/--graph), else "data-root" in its --config-file
//     (default /etc/docker/daemon.json), else /var/lib/docker. Only a dockerd that is root's, in ctrsh's
//     mount namespace and in no container's cgroup counts: any process
//     can call itself dockerd.
//  2. the data root the engine reported (info's DockerRootDir) while it
//     answered: in this Lua state, else as remembered in
//     /run/ctrsh/docker-roots.json (CTRSH_DOCKER_ROOTS moves it), which
//     every run as root that reaches a Docker engine keeps up to date. So
//     a killed engine's root is found even when no dockerd runs.
//  3. for the default socket only (/var/run/docker.sock, /run/docker.sock):
//     "data-root" in /etc/docker/daemon.json, else /var/lib/docker. For
//     another socket those would be some other engine's.
//
// A candidate counts only if it is a directory owned by root and writable
// by no one else, with a containers directory likewise. A tcp:// or ssh://
// engine has no data root here.

// DefaultRootsFile remembers the data root each engine reported.
const DefaultRootsFile = "/run/ctrsh/docker-roots.json"

// rootsFile is the file of remembered data roots.
func rootsFile() string {
	if p := os.Getenv("CTRSH_DOCKER_ROOTS"); p != "" {
		return p
	}
	return DefaultRootsFile
}

// diskState is what an Engine knows of its state on disk.
type diskState struct {
	mu       sync.Mutex
	reported string // DockerRootDir, as the engine reported it in this state
}

// rememberRoot asks the engine for its data root and keeps it, in the
// Engine and (as root) in the remembered file. It runs in the background
// after negotiation; failures are ignored (it is a hint for later).
func (e *Engine) rememberRoot() {
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	res, err := e.Info(ctx, client.InfoOptions{})
	if err != nil || !filepath.IsAbs(res.Info.DockerRootDir) {
		return
	}
	root := filepath.Clean(res.Info.DockerRootDir)
	e.disk.mu.Lock()
	e.disk.reported = root
	e.disk.mu.Unlock()
	if os.Geteuid() != 0 || !strings.HasPrefix(e.Host, "unix://") {
		return
	}
	key := socketKey(e.Host)
	roots := readRoots()
	if roots[key] == root {
		now := time.Now()
		_ = os.Chtimes(rootsFile(), now, now) // checked: fresh for RootsRecheck
		return
	}
	roots[key] = root
	_ = writeRoots(roots)
}

// RootsRecheck is how long a remembered data root is taken as it is
// before an engine is asked for it again (in the background), so that a
// short run does not add an info call (tens of ms on a busy engine) to
// its own.
const RootsRecheck = 10 * time.Minute

// What rootsAge says of the remembered data root of an engine.
const (
	rootFresh   = iota // remembered, checked within RootsRecheck
	rootStale          // remembered, checked longer ago
	rootUnknown        // not remembered (or not root, or not a local socket: ask in the background)
)

// rootsAge says whether the data root of host is remembered, and how long
// ago it was checked. Off root or a local socket, nothing is remembered:
// the engine is asked in the background as before.
func rootsAge(host string) int {
	if os.Geteuid() != 0 || !strings.HasPrefix(host, "unix://") {
		return rootStale
	}
	if readRoots()[socketKey(host)] == "" {
		return rootUnknown
	}
	fi, err := os.Stat(rootsFile())
	if err != nil || time.Since(fi.ModTime()) > RootsRecheck {
		return rootStale
	}
	return rootFresh
}

// readRoots reads the remembered data roots, through the checks ctrsh
// applies to what it runs (root's file, in root's directories): what is
// in it decides which directory is read as the engine's state.
func readRoots() map[string]string {
	roots := map[string]string{}
	f, err := trust.ReadFile(rootsFile())
	if err != nil {
		return roots
	}
	_ = json.Unmarshal(f.Source, &roots)
	return roots
}

// writeRoots replaces the remembered file (a temporary file renamed over
// it, in a directory that must be ctrsh's user's own).
func writeRoots(roots map[string]string) error {
	b, err := json.MarshalIndent(roots, "", "  ")
	if err != nil {
		return err
	}
	path := rootsFile()
	d, err := trust.OwnDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	tmp := fmt.Sprintf(".%s.%d", filepath.Base(path), os.Getpid())
	fd, err := unix.Openat(int(d.Fd()), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(int(d.Fd()), tmp, int(d.Fd()), filepath.Base(path))
	}
	if err != nil {
		_ = unix.Unlinkat(int(d.Fd()), tmp, 0)
	}
	return err
}

// socketKey is the unix socket of host as one string, so that
// unix:///var/run/docker.sock and unix:///run/docker.sock (the same file
// where /var/run links to /run) compare equal; "" for other schemes.
func socketKey(host string) string {
	switch {
	case strings.HasPrefix(host, "unix://"):
		p := filepath.Clean(strings.TrimPrefix(host, "unix://"))
		if strings.HasPrefix(p, "/var/run/") {
			p = "/run/" + strings.TrimPrefix(p, "/var/run/")
		}
		return p
	case host == "fd://" || strings.HasPrefix(host, "fd://"):
		// systemd's docker.socket
		return "/run/docker.sock"
	}
	return ""
}

// isDefaultSocket says whether the socket key is the system engine's.
func isDefaultSocket(key string) bool { return key == "/run/docker.sock" }

// DataRoot returns the data root of e's engine and how it was found (a
// few words for messages), below the host root hostRoot ("/" or a fixture
// tree). The error says what was tried.
func (e *Engine) DataRoot(hostRoot string) (root, how string, err error) {
	key := socketKey(e.Host)
	if key == "" || strings.HasPrefix(e.Host, "fd://") {
		return "", "", fmt.Errorf("docker engine %s: its state on disk is not on this host", e.Host)
	}
	var tried []string
	try := func(dir, from string) bool {
		if dir == "" {
			return false
		}
		if err := checkDataRoot(hostRoot, dir); err != nil {
			tried = append(tried, fmt.Sprintf("%s (%s): %v", dir, from, err))
			return false
		}
		root, how = dir, from
		return true
	}
	d, ok := socketDockerd(hostRoot, key)
	if !ok {
		d, ok = findDockerd(hostRoot, key)
	}
	if ok && try(d.dataRoot, fmt.Sprintf("dockerd %d", d.pid)) {
		return root, how, nil
	}
	e.disk.mu.Lock()
	reported := e.disk.reported
	e.disk.mu.Unlock()
	if try(reported, "reported by the engine") {
		return root, how, nil
	}
	if try(readRoots()[key], "remembered in "+rootsFile()) {
		return root, how, nil
	}
	if isDefaultSocket(key) {
		cfg, _ := readDaemonJSON(hostRoot, "/etc/docker/daemon.json")
		if try(cfg.root(), "/etc/docker/daemon.json") || try("/var/lib/docker", "the default") {
			return root, how, nil
		}
	}
	if len(tried) == 0 {
		return "", "", fmt.Errorf("docker engine %s: its data root is unknown (no dockerd serves it, and it never reported one to ctrsh)", e.Host)
	}
	return "", "", fmt.Errorf("docker engine %s: no data root found: %s", e.Host, strings.Join(tried, "; "))
}

// checkDataRoot checks that dir (below hostRoot) is root's directory,
// writable by no one else, with a containers directory likewise.
func checkDataRoot(hostRoot, dir string) error {
	if !filepath.IsAbs(dir) {
		return errors.New("not an absolute path")
	}
	for _, p := range []string{dir, filepath.Join(dir, "containers")} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(hostRoot, p), &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return fmt.Errorf("%s is not a directory", p)
		}
		if st.Uid != 0 || st.Mode&0o022 != 0 {
			return fmt.Errorf("%s: %w: owned by uid %d, mode %o", p, trust.ErrUntrusted, st.Uid, st.Mode&0o7777)
		}
	}
	return nil
}

// dockerd is a running dockerd, as its command line describes it.
type dockerd struct {
	pid      int
	hosts    []string
	dataRoot string
}

// findDockerd finds the dockerd that serves the socket key: a process
// called dockerd, root's, in ctrsh's mount namespace and in no container.
func findDockerd(hostRoot, key string) (dockerd, bool) {
	fs, err := proc.NewFS(hostRoot)
	if err != nil {
		return dockerd{}, false
	}
	pids, err := fs.PIDs()
	if err != nil {
		return dockerd{}, false
	}
	for _, pid := range pids {
		if d, ok := dockerdAt(hostRoot, fs, pid, key); ok {
			return d, true
		}
	}
	return dockerd{}, false
}

// dockerdAt reads process pid as a dockerd serving the socket key: it
// must be called dockerd, be root's, share ctrsh's mount namespace, be in
// no container, and name the socket on its command line (or config file).
func dockerdAt(hostRoot string, fs *proc.FS, pid int, key string) (dockerd, bool) {
	dir := filepath.Join(hostRoot, "proc", strconv.Itoa(pid))
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
		return dockerd{}, false
	}
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil || st.Uid != 0 {
		return dockerd{}, false
	}
	self, _ := os.Readlink(filepath.Join(hostRoot, "proc/self/ns/mnt"))
	if mnt, _ := os.Readlink(filepath.Join(dir, "ns/mnt")); mnt == "" || mnt != self {
		return dockerd{}, false
	}
	if id, _, err := fs.ContainerOf(pid); err != nil || id != "" {
		return dockerd{}, false
	}
	b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return dockerd{}, false
	}
	d := parseDockerd(hostRoot, strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"))
	d.pid = pid
	for _, h := range d.hosts {
		if socketKey(h) == key {
			return d, true
		}
	}
	return dockerd{}, false
}

// socketDockerd is the dockerd listening on the unix socket key, found
// without a pass over /proc: the kernel says which process made the
// listening socket (SO_PEERCRED of a connection to it), and that process
// must pass dockerdAt's checks. Only for the host ctrsh runs on (a
// fixture tree's sockets are not real) and a socket dockerd made itself
// (under systemd's socket activation the listener is systemd's).
func socketDockerd(hostRoot, key string) (dockerd, bool) {
	if hostRoot != "/" || key == "" {
		return dockerd{}, false
	}
	// Non-blocking: a connect to a listener whose backlog is full (a
	// stopped dockerd that many have called) fails with EAGAIN instead of
	// waiting for it.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return dockerd{}, false
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: key}); err != nil {
		return dockerd{}, false
	}
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || cred.Pid <= 0 || cred.Uid != 0 {
		return dockerd{}, false
	}
	fs, err := proc.NewFS(hostRoot)
	if err != nil {
		return dockerd{}, false
	}
	return dockerdAt(hostRoot, fs, int(cred.Pid), key)
}

// parseDockerd reads a dockerd command line (argv[0] first): its hosts,
// and its data root from the flags or its config file.
func parseDockerd(hostRoot string, argv []string) dockerd {
	var d dockerd
	config := "/etc/docker/daemon.json"
	if len(argv) > 0 {
		argv = argv[1:]
	}
	for i := 0; i < len(argv); i++ {
		name, val, hasVal := strings.Cut(argv[i], "=")
		switch name {
		case "-H", "--host", "--data-root", "-g", "--graph", "--config-file":
		default:
			continue
		}
		if !hasVal {
			if i+1 >= len(argv) {
				break
			}
			i++
			val = argv[i]
		}
		switch name {
		case "-H", "--host":
			d.hosts = append(d.hosts, val)
		case "--data-root", "-g", "--graph":
			d.dataRoot = val
		case "--config-file":
			config = val
		}
	}
	cfg, _ := readDaemonJSON(hostRoot, config)
	if len(d.hosts) == 0 {
		d.hosts = cfg.Hosts
	}
	if len(d.hosts) == 0 {
		d.hosts = []string{"unix:///var/run/docker.sock"}
	}
	if d.dataRoot == "" {
		d.dataRoot = cfg.root()
	}
	if d.dataRoot == "" {
		d.dataRoot = "/var/lib/docker"
	}
	d.dataRoot = filepath.Clean(d.dataRoot)
	return d
}

// daemonJSON is what ctrsh reads of a dockerd config file.
type daemonJSON struct {
	DataRoot string   `json:"data-root"`
	Graph    string   `json:"graph"`
	Hosts    []string `json:"hosts"`
}

func (c daemonJSON) root() string {
	if c.DataRoot != "" {
		return c.DataRoot
	}
	return c.Graph
}

// readDaemonJSON reads a dockerd config file: root's, through the checks
// ctrsh applies to its own code (it decides which directory is read).
func readDaemonJSON(hostRoot, path string) (daemonJSON, error) {
	var cfg daemonJSON
	f, err := trust.ReadFile(filepath.Join(hostRoot, path))
	if err != nil {
		return cfg, err
	}
	dec := json.NewDecoder(bytes.NewReader(f.Source))
	return cfg, dec.Decode(&cfg)
}
