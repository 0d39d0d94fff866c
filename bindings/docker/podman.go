package docker

import (
	"strings"

	"github.com/moby/moby/client"
)

// Podman serves the Docker Engine API too (podman system service); ctrsh's
// docker module talks to it as to Docker. What differs is handled here and
// in the events module:
//   - the engine says it is Podman in /version (a component "Podman
//     Engine"): containers then have runtime = "podman";
//   - Podman names images fully ("docker.io/library/busybox:latest") where
//     Docker keeps what was asked for; c.image is given in Docker's short
//     form, as docker ps shows it;
//   - its API version is 1.41 (Podman 4): the client negotiates down to it;
//   - event actions differ (see the events module);
//   - its state on disk is not Docker's: without an answer there is no
//     fallback to disk.

// isPodman says whether a /version answer is Podman's.
func isPodman(v client.ServerVersionResult) bool {
	for _, c := range v.Components {
		if strings.Contains(c.Name, "Podman") {
			return true
		}
	}
	return false
}

// familiarImage is an image reference as Docker shows it: without the
// default registry "docker.io/" and its "library/" namespace.
func familiarImage(ref string) string {
	if rest, ok := strings.CutPrefix(ref, "docker.io/"); ok {
		if r, ok := strings.CutPrefix(rest, "library/"); ok && !strings.Contains(r, "/") {
			return r
		}
		return rest
	}
	return ref
}
