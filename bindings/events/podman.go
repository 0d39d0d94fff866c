package events

import "time"

// Podman's Docker-compatible API streams events in Docker's shape, with
// its own names for some actions and an attribute of its own:
//
//	Podman      Docker     here
//	remove      destroy    destroy
//	exec_died   exec_die   exec_die
//	init        -          init (the container's runtime set it up; before start)
//	cleanup     -          cleanup (its resources released; after die)
//
// and every container event carries containerExitCode ("0" but on die,
// where exitCode has the same value) and podId ("" outside a pod). Events
// are given Docker's names, so that filters and playbooks are the same on
// both; containerExitCode and an empty podId are dropped.
var podmanActions = map[string]string{
	"remove":    "destroy",
	"exec_died": "exec_die",
}

// Podman 4.3 answers a request with both since and until with no events at
// all (the CLI too: docker events --since --until), while since alone
// replays and streams. So Podman is not sent until: the engine source drops
// what comes after it and ends the stream Settle after until (or after it
// connected, for a window in the past: the replay arrives at once).
func podmanUntil(until time.Time) <-chan time.Time {
	if until.IsZero() {
		return nil
	}
	return time.After(max(time.Until(until), 0) + Settle)
}

// fromPodman gives a Podman event Docker's names.
func fromPodman(ev *Event) {
	if a, ok := podmanActions[ev.Action]; ok {
		ev.Action = a
	}
	delete(ev.Attributes, "containerExitCode")
	if ev.Attributes["podId"] == "" {
		delete(ev.Attributes, "podId")
	}
}

// podmanFilterActions are Docker's action names in an event filter, as
// Podman knows them (the actions it does not have are asked as they are).
func podmanFilterActions(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		for p, d := range podmanActions {
			if v == d {
				v = p
			}
		}
		out = append(out, v)
	}
	return out
}
