package main

// ctrsh fleet: one playbook on many hosts, through the tools that already
// reach them — the system ssh (the user's config, keys, agent, known_hosts,
// ProxyJump) and Kubernetes (a manifest for kubectl). No agent, no server.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

const fleetUsage = `usage: ctrsh fleet run PLAYBOOK [ARGS...] --hosts FILE|h1,h2,... [flags]
       ctrsh fleet push --hosts FILE|h1,h2,... [--binary FILE] [flags]
       ctrsh fleet k8s PLAYBOOK [ARGS...] --image IMAGE [--job --nodes n1,n2,...] [flags]
       ctrsh fleet local PLAYBOOK [ARGS...] [--host-name NAME] [--hold]

run    runs the playbook on every host through the system ssh: its text goes on
       stdin to 'ctrsh run - --json ARGS' there. Rows gain a 'host' column; each
       host ends with a summary row (exit, seconds, error).
push   copies a ctrsh binary (default: this one; build it with 'make static')
       to --remote-ctrsh on every host with scp: sha256 checked on the host,
       mode 0755, renamed into place.
k8s    prints a Kubernetes manifest that runs the playbook on every node (a
       DaemonSet, or with --job one Job per node of --nodes) and, on stderr,
       the kubectl logs line that gathers the JSON rows.
local  runs the playbook here as one host of a fleet (what the pods of 'k8s' run).

ssh flags (run, push):
  --hosts FILE|LIST     hosts: a file (one per line, # comments) or h1,h2,...
  --ssh-config FILE     ssh -F FILE
  --ssh-option OPT      ssh -o OPT (repeatable)
  --parallel N          hosts at a time (default 20)
  --timeout D           per host: stop its run after D (default 10m; 0: none); also the remote --timeout
  --remote-ctrsh PATH   ctrsh on the hosts (default /usr/local/bin/ctrsh)
  --sudo                run it as 'sudo -n PATH' (run only)
  --safe                pass --safe: read-only diagnostics (run only)
  --json                JSON lines instead of a table
k8s flags:
  --image IMAGE         the image holding ctrsh at --remote-ctrsh (required)
  --namespace NS        (default "default"; it must admit privileged pods)
  --socket PATH         the runtime's socket on the nodes (default /run/containerd/containerd.sock)
  --job --nodes LIST    one Job per node instead of a DaemonSet
  --cap NAME            add a capability to the pod (repeatable)
local flags:
  --host-name NAME      the host column (default $NODE_NAME, then the host name)
  --hold                after the run, wait for SIGTERM (a DaemonSet's pod)

exit code: the worst host's: 3 when any host reports a finding; else another
failure's code (the largest); else 0. A host that cannot be reached (ssh exit
255, nothing received) is a row with its error and does not count, unless no
host was reached at all: then 69. 130 after Ctrl-C.
`

// exitNoHost is the exit code when no host could be reached (EX_UNAVAILABLE).
const exitNoHost = 69

// runFleet is `ctrsh fleet SUB ...`.
func runFleet(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, fleetUsage)
		return luax.ExitUsage
	}
	switch args[0] {
	case "run":
		return runFleetRun(ctx, args[1:], stdout, stderr)
	case "push":
		return runFleetPush(ctx, args[1:], stdout, stderr)
	case "k8s":
		return runFleetK8s(args[1:], stdout, stderr)
	case "local":
		return runFleetLocal(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, fleetUsage)
		return luax.ExitOK
	}
	fmt.Fprintf(stderr, "ctrsh fleet: unknown command %q (run, push, k8s, local)\n", args[0])
	return luax.ExitUsage
}

// fleetFlags are the flags of every fleet command; each command accepts
// those it uses.
type fleetFlags struct {
	hosts      string
	ssh        sshOptions
	parallel   int
	timeout    time.Duration
	remote     string
	sudo, safe bool
	json       bool
	help       bool
	binary     string // push
	// k8s
	image, namespace, socket string
	job                      bool
	nodes                    string
	caps                     []string
	// local
	hostName string
	hold     bool
}

func defaultFleetFlags() fleetFlags {
	return fleetFlags{
		parallel:  20,
		timeout:   10 * time.Minute,
		remote:    "/usr/local/bin/ctrsh",
		namespace: "default",
		socket:    "/run/containerd/containerd.sock",
		ssh:       sshOptions{connectTimeout: defaultConnectTimeout},
	}
}

// parseFleetArgs takes the flags named in allowed out of args, anywhere
// before "--"; every other word (and "--" with what follows) is left for the
// playbook, as `ctrsh run NAME ARGS` does.
func parseFleetArgs(f *fleetFlags, args []string, allowed ...string) (rest []string, err error) {
	ok := map[string]bool{"help": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), nil
		}
		if !strings.HasPrefix(a, "--") || a == "--" {
			if a == "-h" {
				f.help = true
				continue
			}
			rest = append(rest, a)
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		if !ok[name] {
			rest = append(rest, a)
			continue
		}
		if p := f.boolFlag(name); p != nil {
			b := true
			if hasVal {
				if b, err = strconv.ParseBool(val); err != nil {
					return nil, fmt.Errorf("flag --%s: %q is not true or false", name, val)
				}
			}
			*p = b
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if err := f.set(name, val); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// boolFlag is the field of the flag name when it is a boolean, else nil.
func (f *fleetFlags) boolFlag(name string) *bool {
	switch name {
	case "help":
		return &f.help
	case "sudo":
		return &f.sudo
	case "safe":
		return &f.safe
	case "json":
		return &f.json
	case "job":
		return &f.job
	case "hold":
		return &f.hold
	}
	return nil
}

// set sets the flag name, which takes a value, to v.
func (f *fleetFlags) set(name, v string) error {
	switch name {
	case "hosts":
		f.hosts = v
	case "ssh-config":
		f.ssh.configFile = v
	case "ssh-option":
		if err := checkSSHOption(v); err != nil {
			return err
		}
		f.ssh.options = append(f.ssh.options, v)
	case "parallel":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("flag --parallel: %q is not a number of hosts (1 or more)", v)
		}
		f.parallel = n
	case "timeout":
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("flag --timeout: invalid duration %q", v)
		}
		f.timeout = d
	case "remote-ctrsh":
		if v == "" {
			return fmt.Errorf("flag --remote-ctrsh: empty path")
		}
		f.remote = v
	case "binary":
		f.binary = v
	case "image":
		f.image = v
	case "namespace":
		f.namespace = v
	case "socket":
		f.socket = v
	case "nodes":
		f.nodes = v
	case "cap":
		f.caps = append(f.caps, v)
	case "host-name":
		f.hostName = v
	}
	return nil
}

// parseHosts reads --hosts: a file that exists (one host per line, commas
// also separate, '#' starts a comment), else a comma-separated list.
// Duplicates are dropped; the order is kept.
func parseHosts(v string) ([]string, error) {
	if v == "" {
		return nil, errors.New("no hosts: give --hosts FILE or --hosts h1,h2")
	}
	text := v
	if st, err := os.Stat(v); err == nil && st.Mode().IsRegular() {
		b, err := os.ReadFile(v)
		if err != nil {
			return nil, err
		}
		text = string(b)
	} else if strings.ContainsRune(v, '/') && !strings.Contains(v, "://") {
		return nil, fmt.Errorf("hosts file %s: %w", v, err)
	}
	var hosts []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		for _, h := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if err := checkHost(h); err != nil {
				return nil, err
			}
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no hosts in %q", v)
	}
	return hosts, nil
}
