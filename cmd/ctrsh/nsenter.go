package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/nsenter"
)

const nsenterUsage = `usage: ctrsh nsenter -t PID|CONTAINER [options] [-- CMD [ARGS...]]

Run CMD in the namespaces of a process or container, as nsenter(1) does, with
no tool needed in the image. Without CMD: the container's $SHELL, or /bin/sh.

  -t, --target PID|CONTAINER  the process (or container) to enter
  -m, --mount    -u, --uts    -i, --ipc    -n, --net    -p, --pid
  -U, --user     -C, --cgroup -T, --time   the namespaces to enter
  -a, --all                   every namespace of the target that differs
                              from ours (the default when none is named)
  -c, --join-cgroup           join the target's cgroups too
  -w, --wd DIR                working directory inside (default /)
  -S, --setuid UID   -G, --setgid GID   run as this user/group inside
                              (names from the container's /etc/passwd)
      --allow-host            permit entering host PID 1 or our own namespaces

The command's exit code passes through (128+N when killed by signal N).
ctrsh nsenter itself exits 64 on usage errors, 77 when not root or refused,
125 when entering failed, 126 when CMD cannot run, 127 when it does not
exist in the container.
`

// exitNsenterFailed is ctrsh nsenter's own failure, as docker run's 125.
const exitNsenterFailed = nsenter.ExitSetup

type nsenterOptions struct {
	target     string
	kinds      []string
	all        bool
	joinCgroup bool
	workdir    string
	uid, gid   string
	allowHost  bool
	help       bool
	argv       []string
}

var nsenterShort = map[byte]string{'m': "mnt", 'u': "uts", 'i': "ipc", 'n': "net", 'p': "pid", 'U': "user", 'C': "cgroup", 'T': "time"}

var nsenterLong = map[string]string{"mount": "mnt", "uts": "uts", "ipc": "ipc", "net": "net", "pid": "pid", "user": "user", "cgroup": "cgroup", "time": "time"}

// parseNsenterArgs reads util-linux style options: short ones may be
// grouped (-mnp), values attached or not (-t42, -t 42, --target=42), and
// options end at "--" or the first argument that is not one.
func parseNsenterArgs(args []string) (*nsenterOptions, error) {
	o := &nsenterOptions{}
	value := func(i *int, name, attached string, hasAttached bool) (string, error) {
		if hasAttached {
			return attached, nil
		}
		if *i+1 >= len(args) {
			return "", fmt.Errorf("option %s needs a value", name)
		}
		*i++
		return args[*i], nil
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		var err error
		if strings.HasPrefix(a, "--") {
			err = o.parseLong(value, &i, a)
		} else {
			err = o.parseShort(value, &i, a)
		}
		if err != nil {
			return nil, err
		}
	}
	o.argv = args[i:]
	if o.help {
		return o, nil
	}
	if o.target == "" {
		return nil, errors.New("no target: give -t PID or -t CONTAINER")
	}
	return o, nil
}

// optValue reads an option's value: attached, or the next argument.
type optValue func(i *int, name, attached string, hasAttached bool) (string, error)

// parseLong reads one --option of ctrsh nsenter.
func (o *nsenterOptions) parseLong(value optValue, i *int, a string) error {
	name, val, hasVal := strings.Cut(a[2:], "=")
	var err error
	switch {
	case nsenterLong[name] != "" && !hasVal:
		o.kinds = append(o.kinds, nsenterLong[name])
	case name == "all" && !hasVal:
		o.all = true
	case name == "join-cgroup" && !hasVal:
		o.joinCgroup = true
	case name == "allow-host" && !hasVal:
		o.allowHost = true
	case name == "help" && !hasVal:
		o.help = true
	case name == "target":
		o.target, err = value(i, "--target", val, hasVal)
	case name == "wd":
		o.workdir, err = value(i, "--wd", val, hasVal)
	case name == "setuid":
		o.uid, err = value(i, "--setuid", val, hasVal)
	case name == "setgid":
		o.gid, err = value(i, "--setgid", val, hasVal)
	default:
		return fmt.Errorf("unknown option %s", a)
	}
	return err
}

// parseShort reads one argument of grouped short options (-mnp, -t42).
func (o *nsenterOptions) parseShort(value optValue, i *int, a string) error {
	for j := 1; j < len(a); j++ {
		c := a[j]
		if k, ok := nsenterShort[c]; ok {
			o.kinds = append(o.kinds, k)
			continue
		}
		var dst *string
		switch c {
		case 'a':
			o.all = true
			continue
		case 'c':
			o.joinCgroup = true
			continue
		case 'h':
			o.help = true
			continue
		case 't':
			dst = &o.target
		case 'w':
			dst = &o.workdir
		case 'S':
			dst = &o.uid
		case 'G':
			dst = &o.gid
		default:
			return fmt.Errorf("unknown option -%c", c)
		}
		v, err := value(i, "-"+string(c), a[j+1:], j+1 < len(a))
		if err != nil {
			return err
		}
		*dst = v
		return nil
	}
	return nil
}

func runNsenter(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	msgs := forTerminal(stderr, false) // our messages quote the container's names: escaped on a terminal
	o, err := parseNsenterArgs(args)
	if err != nil {
		fmt.Fprintf(msgs, "ctrsh nsenter: %v (ctrsh nsenter --help)\n", err)
		return luax.ExitUsage
	}
	if o.help {
		fmt.Fprint(stdout, nsenterUsage)
		return luax.ExitOK
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(msgs, "ctrsh nsenter: needs root: entering another process's namespaces requires CAP_SYS_ADMIN (try sudo)")
		return luax.ExitRefused
	}
	var pidfd *os.File
	pid, err := strconv.Atoi(o.target)
	if err != nil {
		if pid, pidfd, err = containerPID(ctx, o.target); err != nil {
			fmt.Fprintf(msgs, "ctrsh nsenter: %v\n", err)
			return exitNsenterFailed
		}
		defer pidfd.Close()
	}
	opts := nsenter.Options{
		PID: pid, Workdir: o.workdir, AllowHost: o.allowHost,
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Pidfd: pidfd,
	}
	if o.joinCgroup {
		release, err := ns.JoinCgroups(&opts)
		if err != nil {
			fmt.Fprintf(msgs, "ctrsh nsenter: %v\n", err)
			return exitNsenterFailed
		}
		defer release()
	}
	if !o.all && len(o.kinds) > 0 {
		opts.Namespaces = o.kinds
	}
	opts.User = o.user()
	if f, ok := stdin.(*os.File); ok && luax.IsTerminal(f) {
		// A person at the terminal: Ctrl-C belongs to the program inside
		// (the terminal sends it to the whole foreground group), so only
		// SIGTERM and SIGHUP end the command from here.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.WithoutCancel(ctx), syscall.SIGTERM, syscall.SIGHUP)
		defer stop()
	}

	// Audited as c:enter is; as root, an entry that cannot be recorded
	// does not happen.
	audit := newAuditLog("", "", func(msg string) { fmt.Fprintf(msgs, "ctrsh nsenter: warning: %s\n", msg) })
	subject := fmt.Sprintf("process %d", pid)
	if pidfd != nil {
		subject = fmt.Sprintf("container %q", o.target)
	}

	candidates, shell := nsenterCommands(o.argv, pid)
	var argv []string
	var code int
	for _, argv = range candidates {
		start := map[string]any{"phase": "start", "target_pid": pid, "cmd": argv, "ns": opts.Namespaces}
		if opts.User != "" {
			start["as_user"] = opts.User
		}
		if aerr := audit.Record("enter", subject, start); aerr != nil {
			fmt.Fprintf(msgs, "ctrsh nsenter: %v\n", aerr)
			return luax.ExitRefused
		}
		code, err = nsenter.Exec(ctx, opts, argv)
		end := map[string]any{"phase": "end", "target_pid": pid, "code": code, "result": "ok"}
		if err != nil {
			end["result"], end["error"] = "error", err.Error()
		}
		audit.Record("enter", subject, end)
		if !shell || !errors.Is(err, nsenter.ErrNotFound) {
			break
		}
	}
	return nsenterExit(err, code, shell, candidates, o.target, msgs)
}

// nsenterExit reports how entering ended and returns ctrsh nsenter's exit
// code: the command's own, or one of ctrsh's for its failures.
func nsenterExit(err error, code int, shell bool, candidates [][]string, target string, msgs io.Writer) int {
	switch {
	case err == nil:
		return code
	case shell && errors.Is(err, nsenter.ErrNotFound):
		fmt.Fprintf(msgs, "ctrsh nsenter: the container has no shell (%s not found inside); name a tool that is there:\n"+
			"  ctrsh nsenter -t %s -a -- /path/to/tool\nor run Lua inside it, which needs nothing in the image: c:run[[ return io.open(\"/etc/hostname\"):read(\"*a\") ]]\n",
			strings.Join(shellNames(candidates), " and "), target)
		return nsenter.ExitNotFound
	case errors.Is(err, fs.ErrPermission), errors.Is(err, nsenter.ErrRefused):
		fmt.Fprintf(msgs, "ctrsh nsenter: %v\n", err)
		return luax.ExitRefused
	case errors.Is(err, nsenter.ErrNotSupported):
		fmt.Fprintf(msgs, "ctrsh nsenter: %v\n", err)
		return luax.ExitInternal
	case errors.Is(err, context.Canceled):
		return code
	}
	fmt.Fprintf(msgs, "ctrsh nsenter: %v\n", err)
	if code == 0 {
		code = exitNsenterFailed
	}
	return code
}

// user is the "user[:group]" of -S and -G, "" for neither.
func (o *nsenterOptions) user() string {
	if o.uid == "" && o.gid == "" {
		return ""
	}
	u := o.uid
	if u == "" {
		u = "0"
	}
	if o.gid != "" {
		u += ":" + o.gid
	}
	return u
}

// nsenterCommands are the commands to try in turn: argv, or without one
// (shell is then true) the target's $SHELL and /bin/sh.
func nsenterCommands(argv []string, pid int) (candidates [][]string, shell bool) {
	if len(argv) > 0 {
		return [][]string{argv}, false
	}
	if sh := targetShell(pid); sh != "" && sh != "/bin/sh" {
		candidates = append(candidates, []string{sh})
	}
	return append(candidates, []string{"/bin/sh"}), true
}

// targetShell is $SHELL from the target's environment, or "".
func targetShell(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return ""
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, "SHELL="); ok {
			return v
		}
	}
	return ""
}

func shellNames(cands [][]string) []string {
	var out []string
	for _, c := range cands {
		out = append(out, c[0])
	}
	return out
}
