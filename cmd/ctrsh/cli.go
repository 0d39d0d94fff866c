package main

// The command line as one structure: `ctrsh --help` prints it, the manual
// page ctrsh.1 is made from it (TestManPageIsUpToDate checks the committed
// one), and `ctrsh completion` takes its commands and flags from it, so
// that the three cannot drift apart.

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// command is a subcommand: its usage text is what `ctrsh NAME --help`
// prints, and its flags come from its FlagSet or, for commands that parse
// their own (nsenter, fleet, run), from that text.
type command struct {
	Name    string
	Summary string
	Usage   string
	Flags   func() *flag.FlagSet // nil: read the flags from Usage
	Subs    []string             // its own subcommands (fleet run, completion bash)
	Arg     string               // what its first argument is: "playbook", "container", "" (for completion)
}

// synopsis is one usage line of ctrsh.
type synopsis struct{ Line, What string }

// exitDoc is one exit code, in short (--help) and in full (ctrsh.1).
type exitDoc struct {
	Code        string
	Short, Long string
}

// envVar and fileDoc are the ENVIRONMENT and FILES of ctrsh.1.
type envVar struct{ Name, What string }
type fileDoc struct{ Path, What string }

var synopses = []synopsis{
	{"ctrsh [flags]", "the interactive shell (on a terminal)"},
	{"ctrsh [flags] FILE.lua [ARGS...]", "run a script; ARGS are Lua's arg table"},
	{"ctrsh [flags] -e CODE [ARGS...]", "run CODE"},
	{"ctrsh [flags] < script.lua", "run a script from standard input"},
	{"ctrsh run NAME [ARGS...] [flags]", "run a playbook (ctrsh run NAME --help for its arguments)"},
	{"ctrsh playbooks [show NAME]", "list the playbooks, or print one"},
	{"ctrsh top [flags]", "every container live: CPU, memory, pids, OOM kills, I/O (ctrsh top --help)"},
	{"ctrsh nsenter -t PID|CONTAINER ...", "enter a container's namespaces (ctrsh nsenter --help)"},
	{"ctrsh run - [ARGS...] < FILE.lua", "run a playbook whose text comes on standard input"},
	{"ctrsh fleet run|push|k8s|local ...", "one playbook on many hosts, over ssh or Kubernetes (ctrsh fleet --help)"},
	{"ctrsh journal record [flags]", "keep a journal of containers' history (ctrsh journal record --help)"},
	{"ctrsh completion bash|zsh|fish", "print shell completion: source <(ctrsh completion bash)"},
}

const description = `ctrsh is a shell for debugging containers on Linux hosts: a readline REPL
with an embedded Lua interpreter whose modules reach the Docker Engine
(containers, exec, top, stats, events, logs), host processes (/proc),
namespaces (entering them like nsenter, with no tool in the image) and
cgroups (usage, limits, OOM kills). What is typed once at the prompt can
be saved as a Lua playbook and run again, or headless from cron.

In the shell an expression is printed: an array of records (c:top(),
docker.stats{}, proc.list()) as a table fitted to the terminal, anything
else as pp(v) prints it. help() lists the modules, help(fn) prints a
function's doc, help("word") every function and playbook that mentions
word. Tab completes; Ctrl-C stops the running statement; Ctrl-D leaves.`

var exitCodes = []exitDoc{
	{"0", "ok", "success"},
	{"1", "Lua error", "a Lua error escaped the script (error(), a failed assert)"},
	{"3", "fail() finding", "the playbook reported a finding: fail(msg)"},
	{"64", "usage", "usage: bad flags, unknown playbook, bad playbook arguments"},
	{"65", "syntax error", "the script does not compile"},
	{"70", "internal error", "internal error (a Go panic caught at the boundary)"},
	{"75", "locked", "another run of the same playbook holds the lock (retry later)"},
	{"77", "refused", "refused: not permitted (not root where needed; an untrusted playbook file)"},
	{"124", "timeout", "--timeout expired"},
	{"128+N", "signal N", "ended by signal N (SIGINT 130, SIGTERM 143), after cleaning up"},
}

var environment = []envVar{
	{"DOCKER_HOST", "the Docker (or Podman) endpoint when --host is not given (default /var/run/docker.sock, else /run/podman/podman.sock)"},
	{"NO_COLOR", "set: no colour, on a terminal too"},
	{"CTRSH_PLAYBOOK_DIR", "a directory searched for playbooks before the others"},
	{"CTRSH_AUDIT_FILE", "the audit log file when there is no /dev/log (default /var/log/ctrsh/audit.jsonl)"},
	{"CTRSH_LOCK_DIR", "where ctrsh run keeps its per-playbook locks (default /run/ctrsh/locks)"},
	{"HOME", "for ~/.config/ctrsh/playbooks and the shell's history, ~/.ctrsh_history"},
}

var files = []fileDoc{
	{"/etc/ctrsh/playbooks/NAME.lua", "playbooks, searched after $CTRSH_PLAYBOOK_DIR and before ~/.config/ctrsh/playbooks and the bundled ones; a playbook file must belong to root (or the invoking user) and be writable by no one else"},
	{"~/.ctrsh_history", "the shell's history (mode 0600)"},
	{"/var/log/ctrsh/audit.jsonl", "the audit log of every action that changes or enters a container, when there is no /dev/log"},
	{"/run/ctrsh/locks", "the locks of ctrsh run"},
}

const examples = `ctrsh
ctrsh> c = docker.container("web")
ctrsh> c:top()
ctrsh> docker.stats{interval = 1}
ctrsh> help("oom")
ctrsh top --sort mem
ctrsh run oomwatch --container web
ctrsh -e 'for _, c in ipairs(docker.containers()) do emit{name = c.name, pid = c.pid} end' --json
ctrsh nsenter -t web -- cat /etc/hostname`

// runUsage documents `ctrsh run`'s own flags.
const runUsage = `usage: ctrsh run NAME [ARGS...] [flags]
       ctrsh run - [ARGS...] [flags] < FILE.lua

Run the playbook NAME: a file in $CTRSH_PLAYBOOK_DIR, /etc/ctrsh/playbooks or
~/.config/ctrsh/playbooks, or a bundled one ('ctrsh playbooks' lists them).
ARGS are the playbook's own ('ctrsh run NAME --help'); the flags may come
anywhere before "--":
  --json               emit(t) writes one JSON object per line
  --timeout D          stop the run after D (exit 124)
  --host URL           Docker endpoint
  --safe               read-only diagnostics
  --raw                write text as it is on a terminal too
  --lock               take the playbook's lock on a terminal too (exit 75 when held)
  --no-lock            do not take it without a terminal (cron takes it by default)
  --wait D             wait up to D for the lock instead of exiting 75
  --playbook-name NAME the name of a playbook read from standard input (run -)
`

// commands are the subcommands.
func commands() []command {
	return []command{
		{Name: "run", Summary: "run a playbook", Usage: runUsage, Arg: "playbook"},
		{Name: "playbooks", Summary: "list the playbooks, or print one", Usage: "usage: ctrsh playbooks [show NAME]\n", Subs: []string{"show"}},
		{Name: "top", Summary: "every container live", Usage: topUsage, Flags: func() *flag.FlagSet { return newTopFlags(&topOptions{}, io.Discard) }},
		{Name: "nsenter", Summary: "enter a container's namespaces", Usage: nsenterUsage, Arg: "container"},
		{Name: "fleet", Summary: "one playbook on many hosts", Usage: fleetUsage, Subs: []string{"run", "push", "k8s", "local"}},
		{Name: "journal", Summary: "keep a journal of containers' history", Usage: journalUsage, Subs: []string{"record"}},
		{Name: "completion", Summary: "print shell completion", Usage: completionUsage, Subs: []string{"bash", "zsh", "fish"}},
	}
}

// findCommand is the subcommand named name, or nil.
func findCommand(name string) *command {
	for _, c := range commands() {
		if c.Name == name {
			return &c
		}
	}
	return nil
}

// globalFlags are the flags of every way of running Lua.
func globalFlags() *flag.FlagSet { return newFlagSet(&options{}, io.Discard) }

// usageText is the synopsis `ctrsh --help` starts with.
func usageText() string {
	var b strings.Builder
	width := 0
	for _, s := range synopses {
		width = max(width, len(s.Line))
	}
	for i, s := range synopses {
		prefix := "usage: "
		if i > 0 {
			prefix = "       "
		}
		fmt.Fprintf(&b, "%s%-*s  %s\n", prefix, width, s.Line, s.What)
	}
	b.WriteString("\nflags:\n")
	return b.String()
}

// exitCodesText is how `ctrsh --help` ends.
func exitCodesText() string {
	parts := make([]string, len(exitCodes))
	for i, e := range exitCodes {
		parts[i] = e.Code + " " + e.Short
	}
	return "\n" + wrap("exit codes: "+strings.Join(parts, ", ")+";", 78) +
		"\nctrsh fleet: the worst host's code, 69 when no host could be reached\n"
}

// wrap breaks s into lines of at most width, at spaces.
func wrap(s string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}

// flagRE finds the flags a usage text names. It is compiled on first use
// (shell completion), not at the start of every ctrsh run.
var flagRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?:^|[\s,(\[])(--?[A-Za-z][A-Za-z0-9-]*)`)
})

// flagNames are the flags of a command: from its FlagSet as --name, or
// those its usage text names.
func (c command) flagNames() []string {
	if c.Flags != nil {
		return flagNames(c.Flags())
	}
	seen := map[string]bool{"--help": true}
	for _, m := range flagRE().FindAllStringSubmatch(c.Usage, -1) {
		seen[m[1]] = true
	}
	return sortedKeys(seen)
}

// flagNames are the flags of fs as --name (and --help).
func flagNames(fs *flag.FlagSet) []string {
	seen := map[string]bool{"--help": true}
	fs.VisitAll(func(f *flag.Flag) { seen[flagName(f.Name)] = true })
	return sortedKeys(seen)
}

// flagName is how a flag is written: -e, --json.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
