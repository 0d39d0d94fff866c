package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/client"

	"github.com/ctrsh/ctrsh/bindings/cri"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/journal"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const journalUsage = `usage: ctrsh journal record [--db PATH] [--retain 14d] [--max-size 1GiB] [--sample 10s] [--host URL] [--cri URL]

Record what happens to containers in an SQLite journal that outlives the
engine: engine events (resumed across engine restarts, with the engine's
downtime as rows), OOM kills (cgroup counters and the kernel's log), exits
with exit code, OOMKilled and restart count, and a sample of every running
container. One recorder per database; read it with the journal Lua module
(journal.events{...}, c:history{...}, ctrsh run timeline NAME) or sqlite3.

  --db PATH        the database (default $CTRSH_JOURNAL, else /var/lib/ctrsh/journal.db)
  --retain DUR     delete rows older than this (default 14d; 0 keeps them)
  --max-size SIZE  delete the oldest rows when the data passes this (default 1GiB; 0: no limit)
  --sample DUR     sample every running container this often (default 10s; 0: no samples)
  --host URL       Docker endpoint (default $DOCKER_HOST, then the local socket)
  --cri URL        a Kubernetes node's CRI runtime, recorded too (default
                   $CONTAINER_RUNTIME_ENDPOINT, then containerd's, CRI-O's and k3s's
                   sockets, when one is there); on a node without Docker, the only one

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 could not record, 64 usage,
75 another recorder holds the database.
`

type journalOptions struct {
	db      string
	retain  time.Duration
	maxSize int64
	sample  time.Duration
	host    string
	cri     string
	// hostGiven: --host or DOCKER_HOST named the engine (else it is the
	// default socket, which a Kubernetes node may lack).
	hostGiven bool
}

// parseDays is time.ParseDuration that also takes days ("14d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.ParseFloat(n, 64)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(d * float64(24*time.Hour)), nil
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 10s, 30m, 14d)", s)
	}
	return d, nil
}

func parseJournalFlags(args []string, stderr io.Writer) (*journalOptions, error) {
	o := &journalOptions{}
	fs := flag.NewFlagSet("ctrsh journal record", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	retain, maxSize, sample := "14d", "1GiB", "10s"
	fs.StringVar(&o.db, "db", journal.Path(), "")
	fs.StringVar(&retain, "retain", retain, "")
	fs.StringVar(&maxSize, "max-size", maxSize, "")
	fs.StringVar(&sample, "sample", sample, "")
	fs.StringVar(&o.host, "host", "", "")
	fs.StringVar(&o.cri, "cri", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.retain, err = parseDays(retain); err != nil {
		return nil, fmt.Errorf("--retain: %v", err)
	}
	if o.sample, err = parseDays(sample); err != nil {
		return nil, fmt.Errorf("--sample: %v", err)
	}
	if maxSize != "0" {
		if o.maxSize, err = units.RAMInBytes(maxSize); err != nil || o.maxSize < 0 {
			return nil, fmt.Errorf("--max-size: invalid size %q (want e.g. 1GiB, 500MiB)", maxSize)
		}
	}
	if o.db == "" {
		return nil, errors.New("--db: empty path")
	}
	if o.host == "" {
		o.host = os.Getenv("DOCKER_HOST")
	}
	o.hostGiven = o.host != ""
	if o.host == "" {
		o.host = client.DefaultDockerHost
	}
	return o, nil
}

// runJournal is `ctrsh journal record ...`.
func runJournal(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, journalUsage)
			return luax.ExitUsage
		}
		fmt.Fprint(stdout, journalUsage)
		return luax.ExitOK
	}
	if args[0] != "record" {
		fmt.Fprintf(stderr, "ctrsh journal: unknown command %q (ctrsh journal record --help)\n", args[0])
		return luax.ExitUsage
	}
	for _, a := range args[1:] {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, journalUsage)
			return luax.ExitOK
		}
	}
	o, err := parseJournalFlags(args[1:], stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh journal record: %v (ctrsh journal record --help)\n", err)
		return luax.ExitUsage
	}
	return recordJournal(ctx, o, stderr)
}

func recordJournal(ctx context.Context, o *journalOptions, stderr io.Writer) int {
	// A CRI runtime is recorded too when one is named or found; on a node
	// without a Docker socket it is the only one.
	crc, err := cri.Find(ctx, o.cri)
	if err != nil && !errors.Is(err, cri.ErrNoRuntime) {
		fmt.Fprintf(stderr, "ctrsh journal record: %v\n", err)
		return luax.ExitError
	}
	var e *docker.Engine
	if _, serr := os.Stat(strings.TrimPrefix(o.host, "unix://")); o.hostGiven || serr == nil || crc == nil {
		if e, err = docker.NewEngine(o.host); err != nil {
			fmt.Fprintf(stderr, "ctrsh journal record: %v\n", err)
			return luax.ExitUsage
		}
	}
	if crc != nil {
		defer crc.Close()
		fmt.Fprintf(stderr, "ctrsh: journal: recording the CRI runtime %s at %s too\n", crc.Runtime, crc.Endpoint)
	}
	err = journal.Record(ctx, journal.Config{Path: o.db, Retain: o.retain, MaxSize: o.maxSize, Sample: o.sample,
		Engine: e, CRI: crc, Log: stderr})
	switch {
	case errors.Is(err, journal.ErrLocked):
		fmt.Fprintf(stderr, "ctrsh: %v\n", err)
		return luax.ExitLocked
	case err != nil:
		fmt.Fprintf(stderr, "ctrsh: %v\n", err)
		return luax.ExitError
	}
	return luax.ExitOK
}
