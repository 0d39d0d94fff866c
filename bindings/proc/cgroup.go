package proc

import "strings"

// Container ids are found in the cgroup paths of /proc/PID/cgroup. Each
// runtime and cgroup driver names a container's cgroup its own way:
//
//	docker, cgroupfs        /docker/<id>
//	docker, systemd         /system.slice/docker-<id>.scope
//	containerd/CRI, cgroupfs /kubepods/burstable/pod<uid>/<id>
//	containerd/CRI, systemd .../kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
//	                        (runc's form: kubepods-burstable-pod<uid>.slice:cri-containerd:<id>)
//	podman                  /machine.slice/libpod-<id>.scope[/container], /libpod_parent/libpod-<id>
//	CRI-O                   .../crio-<id>.scope, /kubepods/.../crio-<id>
//
// The runtimes' helpers (libpod-conmon-<id>.scope, crio-conmon-<id>.scope,
// containerd shims in containerd.service) are no container's: they get no id.
//
// The names are matched by hand rather than with regular expressions: this
// runs for every process of every listing, and a package-level regexp
// would be compiled at the start of every ctrsh run, used or not.
var (
	// scopePrefixes are the runtimes of a cgroup named <runtime>-<id> or
	// <runtime>-<id>.scope.
	scopePrefixes = [...]string{"docker", "cri-containerd", "crio", "libpod", "nerdctl"}
	// runcRuntimes are the runtimes of runc's form, ...:<runtime>:<id>.
	runcRuntimes = [...]string{"docker", "cri-containerd", "crio"}
)

// idLen is the length of a container id: 32 bytes in hex.
const idLen = 64

// IsContainerID tells whether s is a full container (or CRI sandbox) id:
// 64 lowercase hex digits, as engines name their directories and cgroups.
// (Checked by hand: a package-level regexp would be compiled at the start
// of every ctrsh run.)
func IsContainerID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// scopeID returns the runtime and id of a cgroup named <runtime>-<id> or
// <runtime>-<id>.scope, the runtime one of scopePrefixes; ok is false for
// any other name.
func scopeID(c string) (runtime, id string, ok bool) {
	for _, p := range scopePrefixes {
		if len(c) > len(p) && c[len(p)] == '-' && strings.HasPrefix(c, p) {
			id = strings.TrimSuffix(c[len(p)+1:], ".scope")
			if IsContainerID(id) {
				return p, id, true
			}
		}
	}
	return "", "", false
}

// runcID returns the runtime and id of a cgroup whose name ends in
// :<runtime>:<id>, the runtime one of runcRuntimes; ok is false for any
// other name.
func runcID(c string) (runtime, id string, ok bool) {
	n := len(c) - idLen // where the id starts
	if n < 1 || c[n-1] != ':' || !IsContainerID(c[n:]) {
		return "", "", false
	}
	head := c[:n-1]
	for _, r := range runcRuntimes {
		if k := len(head) - len(r); k > 0 && head[k-1] == ':' && head[k:] == r {
			return r, c[n:], true
		}
	}
	return "", "", false
}

var runtimeOf = map[string]string{
	"docker":         "docker",
	"cri-containerd": "containerd",
	"nerdctl":        "containerd",
	"crio":           "crio",
	"libpod":         "podman",
}

// containerOf returns the container id and runtime named by one cgroup path,
// or "", "" when the path is no container's. The innermost match wins (a
// container started inside another one is the inner one's).
func containerOf(path string) (id, runtime string) {
	parts := strings.Split(path, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		c := parts[i]
		if rt, id, ok := scopeID(c); ok {
			return id, runtimeOf[rt]
		}
		if rt, id, ok := runcID(c); ok {
			return id, runtimeOf[rt]
		}
		if IsContainerID(c) && i > 0 {
			// A bare id: the runtime is told by its ancestors.
			for _, a := range parts[:i] {
				switch {
				case a == "docker":
					return c, "docker"
				case a == "libpod_parent":
					return c, "podman"
				case strings.HasPrefix(a, "kubepods"):
					return c, "containerd"
				}
			}
		}
	}
	return "", ""
}

// cgroupLine is one line of /proc/PID/cgroup.
type cgroupLine struct {
	Hierarchy   string
	Controllers string
	Path        string
}

func parseCgroup(b []byte) []cgroupLine {
	var out []cgroupLine
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		out = append(out, cgroupLine{f[0], f[1], f[2]})
	}
	return out
}

// containerOfLines looks at the unified line first, then the v1 lines.
func containerOfLines(lines []cgroupLine) (id, runtime string) {
	for _, l := range lines {
		if l.Hierarchy == "0" && l.Controllers == "" {
			if id, rt := containerOf(l.Path); id != "" {
				return id, rt
			}
		}
	}
	for _, l := range lines {
		if id, rt := containerOf(l.Path); id != "" {
			return id, rt
		}
	}
	return "", ""
}

// ContainerOfCgroup returns the container id and runtime that a cgroup
// path names ("/docker/<id>", ".../docker-<id>.scope", ...), or "", "".
func ContainerOfCgroup(path string) (id, runtime string) { return containerOf(path) }
