package proc

import (
	"regexp"
	"strings"
)

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
var (
	scopeRE = regexp.MustCompile(`^(docker|cri-containerd|crio|libpod|nerdctl)-([0-9a-f]{64})(?:\.scope)?$`)
	runcRE  = regexp.MustCompile(`:(docker|cri-containerd|crio):([0-9a-f]{64})$`)
	hexRE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

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
		if m := scopeRE.FindStringSubmatch(c); m != nil {
			return m[2], runtimeOf[m[1]]
		}
		if m := runcRE.FindStringSubmatch(c); m != nil {
			return m[2], runtimeOf[m[1]]
		}
		if hexRE.MatchString(c) && i > 0 {
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
