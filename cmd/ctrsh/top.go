package main

// ctrsh top: every container live, as docker stats and ctop show them,
// from the cgroup files (no engine stats API): full-screen on a terminal,
// one sample off it.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/containers"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
	"github.com/ctrsh/ctrsh/bindings/top"
)

const topUsage = `usage: ctrsh top [--interval D] [--sort cpu|mem|pids|name] [--filter TEXT] [--json] [--host H] [--cri URL] [--no-trace]

Every running container of every runtime on the host (Docker, Podman, a
Kubernetes node's containerd or CRI-O), refreshed every --interval: CPU %,
memory (working set, as docker stats) / limit / %, pids, OOM kills (the
cgroup's count), restarts, network rx/tx, block I/O read/write. Figures come
from the cgroup files and /proc; the runtimes only list the containers (from
their state on disk when they do not answer).

On a terminal it is full-screen:
  c m p n      sort by CPU, memory, pids, name (the same key again: reversed)
  /            filter by name, pod, image or id as you type (Enter keeps it, Esc drops it)
  Up Down      select a container (also j k, PgUp PgDn, g G)
  Enter        its processes (host PID and PID inside), last log lines and,
               as root on a kernel that can trace, the last programs it ran
  Esc          back to the list
  q, Ctrl-C    quit
Off a terminal it prints one sample (CPU % over --interval) as a table, or
JSON lines with --json, and exits.

flags:
`

// topOptions are the flags of ctrsh top.
type topOptions struct {
	interval time.Duration
	sortBy   string
	filter   string
	json     bool
	host     string
	cri      string
	noTrace  bool
}

func newTopFlags(o *topOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ctrsh top", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.interval, "interval", time.Second, "time between refreshes; off a terminal, what CPU % is measured over")
	fs.StringVar(&o.sortBy, "sort", "cpu", "order: cpu, mem, pids or name")
	fs.StringVar(&o.filter, "filter", "", "only containers whose name or image holds this text, or whose id starts with it")
	fs.BoolVar(&o.json, "json", false, "off a terminal: one JSON object per container")
	fs.StringVar(&o.host, "host", "", "Docker or Podman endpoint (default $DOCKER_HOST, then /var/run/docker.sock, then /run/podman/podman.sock)")
	fs.StringVar(&o.cri, "cri", "", "CRI runtime endpoint of a Kubernetes node (default $CONTAINER_RUNTIME_ENDPOINT, then containerd's, CRI-O's and k3s's sockets)")
	fs.BoolVar(&o.noTrace, "no-trace", false, "do not trace execs for the detail view")
	fs.Usage = func() { fmt.Fprintln(stderr, "run 'ctrsh top --help' for usage") }
	return fs
}

// runTop is `ctrsh top`.
func runTop(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o topOptions
	fs := newTopFlags(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printTopHelp(fs, stdout)
			return luax.ExitOK
		}
		return luax.ExitUsage
	}
	sortBy, ok := top.SortNames[strings.ToLower(o.sortBy)]
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "ctrsh top: unexpected argument %q (run 'ctrsh top --help')\n", fs.Arg(0))
		return luax.ExitUsage
	case !ok:
		fmt.Fprintf(stderr, "ctrsh top: --sort %q: want cpu, mem, pids or name\n", o.sortBy)
		return luax.ExitUsage
	case o.interval <= 0:
		fmt.Fprintln(stderr, "ctrsh top: --interval must be more than 0")
		return luax.ExitUsage
	}
	src, col, done, err := topCollector(o)
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh top: %v\n", err)
		return luax.ExitError
	}
	defer done()
	sig := newSignalCancel(ctx)
	defer sig.stop()
	ctx = sig.ctx
	collect := func() top.Snapshot { return col.Collect(ctx) }
	in, inOK := stdin.(*os.File)
	out, outOK := stdout.(*os.File)
	if inOK && outOK && luax.IsTerminal(in) && luax.IsTerminal(out) {
		execs := top.NoExecs("not traced (--no-trace)")
		if !o.noTrace {
			execs = topExecs(ctx, col)
		}
		err := top.Run(ctx, in, out, top.Options{Interval: o.interval, Color: os.Getenv("NO_COLOR") == "", Sort: sortBy,
			Filter: o.filter, Collect: collect, Detail: top.Details(ctx, src.Lookup, "/", execs)})
		return topExit(err, sig, stderr)
	}
	return topSample(ctx, collect, o, sortBy, sig, stdout, stderr)
}

func printTopHelp(fs *flag.FlagSet, stdout io.Writer) {
	fmt.Fprint(stdout, topUsage)
	fs.SetOutput(stdout)
	fs.PrintDefaults()
}

// topCollector reads the containers of every runtime the containers
// module finds (Docker's or Podman's socket, or --host; the CRI runtime, or
// --cri). done closes what it opened.
func topCollector(o topOptions) (src *top.Runtimes, col *top.Collector, done func(), err error) {
	L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader(""), DockerHost: o.host, CRIEndpoint: o.cri})
	if src, err = top.NewRuntimes(containers.Runtimes(L), "/"); err == nil {
		col, err = top.NewCollector(src, "/")
	}
	if err != nil {
		L.Close()
		return nil, nil, nil, err
	}
	return src, col, func() { col.Close(); L.Close() }, nil
}

// topExecs traces execs for the detail view when ctrsh is root.
func topExecs(ctx context.Context, col *top.Collector) func() top.Execs {
	if os.Geteuid() != 0 {
		return top.NoExecs("tracing execs needs root")
	}
	return top.WatchExecs(ctx, col.Name)
}

// topExit is the exit code of a view that ended with err: 128+N after
// signal N.
func topExit(err error, sig *signalCancel, stderr io.Writer) int {
	switch n := sig.received(); {
	case err == nil:
		return luax.ExitOK
	case n != 0:
		return 128 + n
	}
	fmt.Fprintf(stderr, "ctrsh top: %v\n", err)
	return luax.ExitError
}

// topSample prints one sample: a table, or JSON lines.
func topSample(ctx context.Context, collect func() top.Snapshot, o topOptions, sortBy top.SortKey, sig *signalCancel, stdout, stderr io.Writer) int {
	snap, err := top.Sample(ctx, collect, o.interval, sortBy, o.filter)
	if err != nil {
		return topExit(err, sig, stderr)
	}
	if snap.Err != nil {
		fmt.Fprintf(stderr, "ctrsh top: %v\n", snap.Err)
		if len(snap.Rows) == 0 {
			return luax.ExitError
		}
	}
	if snap.Note != "" {
		fmt.Fprintf(stderr, "ctrsh top: %s\n", snap.Note)
	}
	if o.json {
		for _, r := range snap.Rows {
			b, err := luax.MarshalJSON(top.Record(r), false)
			if err != nil {
				fmt.Fprintf(stderr, "ctrsh top: %v\n", err)
				return luax.ExitError
			}
			stdout.Write(append(b, '\n'))
		}
		return luax.ExitOK
	}
	io.WriteString(stdout, top.Table(snap.Rows).String(tabular.Options{Human: true, Noun: "containers"}))
	return luax.ExitOK
}
