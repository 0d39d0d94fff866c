// Command ctrsh is a shell for debugging containers: an interactive Lua
// REPL whose modules reach the Docker Engine, /proc, namespaces and
// cgroups, and a runner for Lua playbooks, headless from cron.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// A re-executed copy of ctrsh inside a container's namespaces runs the
	// Lua chunk it was sent (c:run, ns.run) and nothing else.
	if ns.RunChild(bindings.NewChild) {
		os.Exit(0)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// subcommands are the commands that have flags of their own, each in its
// own file.
var subcommands = map[string]func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int{
	"nsenter":    runNsenter,
	"top":        runTop,
	"journal":    runJournal,
	"fleet":      runFleet,
	"completion": runCompletion,
	"__complete": runComplete,
}

// options are the flags shared by every way of running Lua.
type options struct {
	json    bool
	timeout time.Duration
	host    string
	cri     string
	safe    bool
	raw     bool
	code    string
	version bool
	help    bool
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ctrsh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.json, "json", false, "emit(t) writes one JSON object per line on stdout")
	fs.DurationVar(&o.timeout, "timeout", 0, "stop the run after this long (exit 124), e.g. 30s, 5m")
	fs.StringVar(&o.host, "host", "", "Docker or Podman endpoint (default $DOCKER_HOST, then /var/run/docker.sock, then /run/podman/podman.sock)")
	fs.StringVar(&o.cri, "cri", "", "CRI runtime endpoint of a Kubernetes node, e.g. unix:///run/containerd/containerd.sock (default $CONTAINER_RUNTIME_ENDPOINT, then containerd's, CRI-O's and k3s's sockets)")
	fs.BoolVar(&o.safe, "safe", false, "read-only diagnostics: no io (but writing to stdout and stderr), os (but time), load*, dofile, debug, net, mkdir, nor anything that changes or enters a container")
	fs.BoolVar(&o.raw, "raw", false, "write text as it is on a terminal too, control characters included (they are escaped there otherwise)")
	fs.StringVar(&o.code, "e", "", "run this Lua code")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.help, "help", false, "print this help and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "run 'ctrsh --help' for usage")
	}
	return fs
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ctrsh: internal error: %v\n", r)
			code = luax.ExitInternal
		}
	}()
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			ctx, stop := signalContext(context.Background())
			defer stop()
			return sub(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	var o options
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageText())
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return luax.ExitOK
		}
		return luax.ExitUsage
	}
	if o.help {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, usageText())
		fs.PrintDefaults()
		fmt.Fprint(stdout, exitCodesText())
		return luax.ExitOK
	}
	if o.version {
		fmt.Fprintf(stdout, "ctrsh %s\n", version)
		return luax.ExitOK
	}
	if o.timeout < 0 {
		fmt.Fprintln(stderr, "ctrsh: --timeout must not be negative")
		return luax.ExitUsage
	}
	rest := fs.Args()
	env := newEnv(&o, stdin, stdout, stderr)
	switch {
	case o.code != "" || isFlagSet(fs, "e"):
		return runChunk(env, &o, chunk{name: "=(command line)", src: o.code, argv0: "-e", args: rest})
	case len(rest) > 0 && rest[0] == "run":
		return runPlaybookCmd(&o, rest[1:], stdin, stdout, stderr)
	case len(rest) > 0 && rest[0] == "playbooks":
		return runPlaybooksCmd(rest[1:], stdout, stderr)
	case len(rest) > 0:
		ref := &playbookRef{Name: strings.TrimSuffix(filepath.Base(rest[0]), ".lua"), Path: rest[0], Origin: filepath.Dir(rest[0])}
		return runScript(env, &runOptions{options: o}, ref, rest[1:])
	case luax.IsTerminal(stdin):
		return runShell(env, &o)
	default:
		src, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "ctrsh: reading stdin: %v\n", err)
			return luax.ExitUsage
		}
		env.Stdin = strings.NewReader("")
		return runChunk(env, &o, chunk{name: "=stdin", src: string(src), argv0: "-", args: nil})
	}
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func newEnv(o *options, stdin io.Reader, stdout, stderr io.Writer) *luax.Env {
	host := o.host
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	env := &luax.Env{
		Stdin:       stdin,
		Stdout:      forTerminal(stdout, o.raw),
		Stderr:      forTerminal(stderr, o.raw),
		JSON:        o.json,
		Color:       luax.IsTerminal(stdout) && os.Getenv("NO_COLOR") == "",
		DockerHost:  host,
		CRIEndpoint: o.cri,
		Safe:        o.safe,
		ModuleDirs:  playbookDirs(),
		Playbooks:   playbookDocs,
	}
	withProgress(env, stdout, stderr, o.raw)
	// The shell and -e runs audit too; playbooks replace this with their name and hash.
	env.Audit = newAuditLog("", "", func(msg string) {
		fmt.Fprintf(stderr, "ctrsh: warning: %s\n", msg)
	}).Record
	return env
}

// forTerminal is w escaped when it is a terminal (luax.TermWriter): what
// containers and the kernel wrote (names, command lines, log lines,
// labels, environment values, messages quoting them) must not act on the
// terminal of the person reading it. Off a terminal, and with --raw,
// bytes are written as they are.
func forTerminal(w io.Writer, raw bool) io.Writer {
	if raw || !luax.IsTerminal(w) {
		return w
	}
	return luax.NewTermWriter(w)
}
