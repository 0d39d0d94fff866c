package docker

import (
	"strings"

	cerrdefs "github.com/containerd/errdefs"
)

// Podman serves the Docker Engine API too (podman system service); ctrsh's
// docker module talks to it as to Docker. What differs is handled here and
// in the events module:
//   - the engine says it is Podman in /version (a component "Podman
//     Engine"): containers then have runtime = "podman";
//   - Podman names images fully ("docker.io/library/busybox:latest") where
//     Docker keeps what was asked for; c.image is given in Docker's short
//     form, as docker ps shows it;
//   - its container states are libpod's: between the restarts of a
//     --restart always container it says "stopped" where Docker says
//     "exited" (or "restarting"); c.state is given Docker's names;
//   - its API version is 1.41 (Podman 4): the client negotiates down to it;
//   - event actions differ (see the events module);
//   - its state on disk is not Docker's: without an answer there is no
//     fallback to disk.

// podmanStates are libpod's container states that Docker has no name for.
var podmanStates = map[string]string{
	"configured":  "created",
	"initialized": "created",
	"stopped":     "exited",
	"stopping":    "running",
}

// dockerState is a Podman container state by Docker's name.
func dockerState(s string) string {
	if d, ok := podmanStates[s]; ok {
		return d
	}
	return s
}

// isNotFound says whether err is the engine's "no such container": a 404,
// or Podman's answer about a container removed while it was asked about
// ("container X does not exist in database: no such container", with
// another status).
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	return cerrdefs.IsNotFound(err) || strings.HasSuffix(strings.ToLower(err.Error()), ": no such container")
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
