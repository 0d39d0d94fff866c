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

// modules are the ctrsh modules, in the order they are loaded: the host
// modules first, then the engine's, which set the hooks that let proc and ns
// take container references.
var modules = []Module{
	{Name: "proc", Loader: proc.Loader},
	{Name: "cgroup", Loader: cgroup.Loader},
	{Name: "ns", Loader: ns.Loader},
	{Name: "docker", Loader: docker.Loader},
	{Name: "events", Loader: events.Loader},
	{Name: "logs", Loader: logs.Loader},
	{Name: "net", Loader: netx.Loader},
	{Name: "trace", Loader: trace.Loader},
	{Name: "journal", Loader: journal.Loader},
	{Name: "cri", Loader: cri.Loader},
	{Name: "containers", Loader: containers.Loader},
}
