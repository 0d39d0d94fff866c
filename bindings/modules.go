package bindings

import (
	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/containers"
	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/journal"
	"github.com/ctrsh/ctrsh/bindings/logs"
	"github.com/ctrsh/ctrsh/bindings/netx"
	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/bindings/trace"
)

// newModules builds the ctrsh modules and wires them: the whole graph of
// the program. A module that needs another is handed it here, as a small
// interface its own package defines; no module sets another's variables.
// New loads them, in this order, into every state, and sets each as a
// global.
func newModules() []Module {
	// Container references ("web", an id prefix, "pod/name") are found in
	// every runtime of the host: the containers module's Resolver.
	refs := containers.Resolver{}
	tr := trace.New(refs)
	// Container's methods that other modules provide (they import docker).
	dk := docker.New(docker.Extensions{
		Logs:    logs.OfContainer,
		Events:  events.OfContainer,
		Trace:   tr.OfContainer,
		History: journal.OfContainer,
	})
	return []Module{
		{Name: "proc", Loader: proc.New(refs).Loader},
		{Name: "cgroup", Loader: cgroup.Loader},
		{Name: "ns", Loader: ns.New(refs).Loader},
		{Name: "docker", Loader: dk.Loader}, // before the modules that push Containers
		{Name: "events", Loader: events.Loader},
		{Name: "logs", Loader: logs.New(refs).Loader},
		{Name: "net", Loader: netx.Loader},
		{Name: "trace", Loader: tr.Loader},
		{Name: "journal", Loader: journal.Loader},
		{Name: "cri", Loader: cri.Loader},
		{Name: "containers", Loader: containers.Loader},
	}
}
