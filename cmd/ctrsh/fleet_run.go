package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/trust"
)

// killGrace is how long a host's ssh has between SIGTERM and SIGKILL (and
// its pipes before they are closed) once its run is stopped.
const killGrace = 2 * time.Second

// hostResult is how one host's run ended.
type hostResult struct {
	Host     string
	Code     int // the remote exit code; 255 when ssh failed; 124 timeout; 130 interrupted
	Duration time.Duration
	Err      string // the last line on stderr, or what stopped the run
	Rows     int    // rows received
	Reached  bool   // the host answered: the remote command ran (or rows came)
}

// rank orders outcomes for the fleet's exit code, from best to worst: a host
// that could not be reached (it is reported, but a fleet is not failed by a
// host that is down) < success < a failure of the run (Lua error, usage,
// refused, locked, timeout, signal, lost connection) < a finding (exit 3,
// the answer a fleet check is asked for).
func (r hostResult) rank() int {
	switch {
	case !r.Reached:
		return 0
	case r.Code == luax.ExitOK:
		return 1
	case r.Code == luax.ExitFinding:
		return 3
	}
	return 2
}

// worstExit is the fleet's exit code: the code of the worst host by rank,
// the larger code among failures of the same rank; exitNoHost when no host
// was reached.
func worstExit(results []hostResult) int {
	if len(results) == 0 {
		return luax.ExitOK
	}
	worst := results[0]
	for _, r := range results[1:] {
		if r.rank() > worst.rank() || r.rank() == worst.rank() && r.Code > worst.Code {
			worst = r
		}
	}
	if !worst.Reached {
		return exitNoHost
	}
	return worst.Code
}

// fleetOutput writes the rows of every host to one stdout, whole lines at a
// time: JSON lines with --json, else emit's aligned table (rows as they
// come; the summary rows as a table of their own at the end). Text from a
// host is escaped as emit escapes it: every control in JSON, control
// characters in table cells, stderr lines on a terminal.
type fleetOutput struct {
	mu        sync.Mutex
	json      bool
	stdout    io.Writer
	stderr    io.Writer
	escErr    bool // stderr is a terminal
	rows      *bindings.Rows
	flushing  *time.Timer // a pending flush of the rows held
	summaries []hostResult
}

// flushDelay is how long table rows are held so that rows arriving together
// are aligned together (emit aligns each batch as a whole, likewise).
const flushDelay = 150 * time.Millisecond

func newFleetOutput(jsonOut bool, stdout, stderr io.Writer) *fleetOutput {
	return &fleetOutput{
		json:   jsonOut,
		stdout: stdout,
		stderr: stderr,
		escErr: luax.IsTerminal(stderr),
		rows:   bindings.NewRows(stdout, false),
	}
}

// row writes one line a host printed on stdout: a JSON object (a row of
// emit) gains the host column; any other line becomes {host, output}. A
// row's own "host" field is kept as "emitted_host".
func (o *fleetOutput) row(host string, line []byte) {
	var rec map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil || rec == nil || dec.More() {
		rec = map[string]any{"output": string(line)}
	}
	if v, ok := rec["host"]; ok {
		rec["emitted_host"] = v
	}
	rec["host"] = host
	o.mu.Lock()
	defer o.mu.Unlock()
	o.write(rec)
}

// write writes a record; o.mu is held.
func (o *fleetOutput) write(rec map[string]any) {
	if o.json {
		b, err := luax.MarshalJSON(rec, false)
		if err != nil {
			return
		}
		o.stdout.Write(append(b, '\n'))
		return
	}
	cells := make(map[string]string, len(rec))
	for k, v := range rec {
		cells[o.cell(k)] = o.cell(v)
	}
	o.rows.Add(cells)
	if o.flushing == nil {
		o.flushing = time.AfterFunc(flushDelay, func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.rows.Flush()
			o.flushing = nil
		})
	}
}

// cell renders a JSON value as emit's table does: strings on one line with
// their control characters escaped, tables as JSON.
func (o *fleetOutput) cell(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	case nil:
		s = "nil"
	case bool:
		s = strconv.FormatBool(v)
	default:
		b, _ := luax.MarshalJSON(v, false)
		s = string(b)
	}
	return luax.EscapeLine(s)
}

// stderrLine relays a line a host wrote on stderr, prefixed with the host.
func (o *fleetOutput) stderrLine(host string, line string) {
	if o.escErr {
		line = luax.EscapeLine(line)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.stderr, "%s: %s\n", host, line)
}

// summary writes a host's summary row: at once with --json, with the other
// summaries at the end (Finish) for a table.
func (o *fleetOutput) summary(r hostResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.json {
		o.summaries = append(o.summaries, r)
		return
	}
	o.write(summaryRecord(r))
}

func summaryRecord(r hostResult) map[string]any {
	return map[string]any{
		"host":    r.Host,
		"fleet":   "summary",
		"exit":    r.Code,
		"seconds": json.Number(strconv.FormatFloat(r.Duration.Seconds(), 'f', 3, 64)),
		"error":   r.Err,
	}
}

// finish writes the summary table, in the order of hosts.
func (o *fleetOutput) finish(hosts []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		return
	}
	if o.flushing != nil {
		o.flushing.Stop()
		o.flushing = nil
	}
	o.rows.Flush()
	if len(o.summaries) == 0 {
		return
	}
	byHost := map[string]hostResult{}
	for _, r := range o.summaries {
		byHost[r.Host] = r
	}
	fmt.Fprintln(o.stdout)
	sum := bindings.NewRows(o.stdout, false)
	for _, h := range hosts {
		r, ok := byHost[h]
		if !ok {
			continue
		}
		rec := summaryRecord(r)
		delete(rec, "fleet")
		cells := map[string]string{}
		for k, v := range rec {
			cells[k] = o.cell(v)
		}
		sum.Add(cells)
	}
	sum.Flush()
}

// lineWriter calls fn with each complete line written to it (without the
// newline); Close hands over a last line without one.
type lineWriter struct {
	buf []byte
	fn  func([]byte)
}

// maxLine bounds a line held while waiting for its newline.
const maxLine = 8 << 20

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.fn(w.buf)
		w.buf = nil
	}
	if len(w.buf) == 0 {
		w.buf = nil
	}
	return len(p), nil
}

func (w *lineWriter) Close() {
	if len(w.buf) > 0 {
		w.fn(w.buf)
		w.buf = nil
	}
}

// runHost runs argv (ssh to one host, or a local ctrsh) with stdin, streams
// its stdout as rows of host and its stderr as prefixed lines, and says how
// it ended. The child runs in a process group of its own (a terminal's
// Ctrl-C reaches ctrsh, which decides), dies with ctrsh (PDEATHSIG), and is
// stopped when ctx ends or after timeout: SIGTERM to the group, SIGKILL
// after killGrace, reaped before runHost returns.
func runHost(ctx context.Context, out *fleetOutput, host string, argv []string, stdin []byte, timeout time.Duration) hostResult {
	start := time.Now()
	res := hostResult{Host: host}
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		hctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()

	var lastErr string
	var mu sync.Mutex
	stdoutW := &lineWriter{fn: func(line []byte) {
		mu.Lock()
		res.Rows++
		mu.Unlock()
		out.row(host, line)
	}}
	stderrW := &lineWriter{fn: func(line []byte) {
		s := strings.TrimSpace(string(line))
		if s == "" {
			return
		}
		mu.Lock()
		lastErr = s
		mu.Unlock()
		out.stderrLine(host, s)
	}}

	cmd := exec.CommandContext(hctx, argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout = stdoutW
	cmd.Stderr = stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = killGrace
	err := cmd.Start()
	if err != nil {
		res.Code, res.Err, res.Duration = 255, err.Error(), time.Since(start)
		return res
	}
	pgid := cmd.Process.Pid
	err = cmd.Wait()
	// Whatever the group's leader left behind (a ProxyJump's ssh) goes too.
	syscall.Kill(-pgid, syscall.SIGKILL)
	stdoutW.Close()
	stderrW.Close()
	res.Duration = time.Since(start)
	res.Code = cmd.ProcessState.ExitCode()
	res.Reached = res.Code != 255 || res.Rows > 0
	switch {
	case ctx.Err() != nil:
		res.Code, res.Err, res.Reached = 128+int(syscall.SIGINT), "interrupted", true
	case errors.Is(hctx.Err(), context.DeadlineExceeded):
		res.Code, res.Err, res.Reached = luax.ExitTimeout, fmt.Sprintf("timeout: no end after %s", timeout), true
	case res.Code == 0:
	case res.Code == 255 && res.Rows > 0:
		res.Err = "connection lost: " + lastErr
	case res.Code == 127 || res.Code == 126:
		res.Err = fmt.Sprintf("%s (is ctrsh at --remote-ctrsh? 'ctrsh fleet push' puts it there)", lastErr)
	case res.Code < 0:
		res.Code, res.Err = 255, fmt.Sprintf("ssh: %v", err)
	default:
		res.Err = lastErr
	}
	if res.Err == "" && res.Code != 0 {
		res.Err = fmt.Sprintf("exit status %d", res.Code)
	}
	return res
}

// fanOut runs fn for every host, at most parallel at a time (a sliding
// window: a host starts as soon as one ends), never stopping at a failure;
// after ctx ends, hosts not yet started are reported as not started.
func fanOut(ctx context.Context, out *fleetOutput, hosts []string, parallel int, fn func(host string) hostResult) []hostResult {
	results := make([]hostResult, len(hosts))
	var g errgroup.Group
	g.SetLimit(parallel)
	for i, h := range hosts {
		if ctx.Err() != nil {
			results[i] = hostResult{Host: h, Code: 128 + int(syscall.SIGINT), Err: "not started: interrupted", Reached: true}
			out.summary(results[i])
			continue
		}
		g.Go(func() error {
			results[i] = fn(h)
			out.summary(results[i])
			return nil
		})
	}
	g.Wait()
	out.finish(hosts)
	return results
}

// runFleetRun is `ctrsh fleet run PLAYBOOK [ARGS...] --hosts ...`.
func runFleetRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := defaultFleetFlags()
	rest, err := parseFleetArgs(&f, args, "hosts", "ssh-config", "ssh-option", "parallel", "timeout", "remote-ctrsh", "sudo", "safe", "json")
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet run: %v\n", err)
		return luax.ExitUsage
	}
	if f.help {
		fmt.Fprint(stdout, fleetUsage)
		return luax.ExitOK
	}
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "ctrsh fleet run: which playbook? usage: ctrsh fleet run PLAYBOOK [ARGS...] --hosts FILE|h1,h2,...")
		return luax.ExitUsage
	}
	hosts, err := parseHosts(f.hosts)
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet run: %v\n", err)
		return luax.ExitUsage
	}
	pb, code := loadFleetPlaybook("ctrsh fleet run", rest[0], stderr)
	if pb == nil {
		return code
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet run: %v (ctrsh fleet drives the system OpenSSH client)\n", err)
		return exitNoHost
	}
	remote := remoteCommand(remoteRun{ctrsh: f.remote, sudo: f.sudo, playbook: pb.name, timeout: f.timeout, safe: f.safe, args: rest[1:]})
	// The remote run stops itself at --timeout; ssh gets a little longer
	// to connect and to bring the last rows home.
	hostTimeout := f.timeout
	if hostTimeout > 0 {
		hostTimeout += f.ssh.connectTimeout + 5*time.Second
	}

	sig := newSignalCancel(ctx)
	defer sig.stop()
	out := newFleetOutput(f.json, stdout, stderr)
	results := fanOut(sig.ctx, out, hosts, f.parallel, func(host string) hostResult {
		return runHost(sig.ctx, out, host, buildSSHCommand(f.ssh, host, remote), pb.src, hostTimeout)
	})
	if n := sig.received(); n != 0 {
		fmt.Fprintf(stderr, "ctrsh fleet run: stopped by %s\n", unixSignalName(n))
		return 128 + n
	}
	return worstExit(results)
}

// fleetPlaybook is a playbook read, checked and compiled here before it
// goes to the hosts.
type fleetPlaybook struct {
	name string
	src  []byte
	sha  string
}

// loadFleetPlaybook finds a playbook as `ctrsh run` does, through the same
// trust checks (a playbook that would be refused here is not sent to run as
// root elsewhere), and compiles it so that a syntax error is one message,
// not one per host.
func loadFleetPlaybook(cmd, name string, stderr io.Writer) (*fleetPlaybook, int) {
	ref, err := findPlaybook(name)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, luax.ExitUsage
	}
	tf, err := ref.load()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		if errors.Is(err, trust.ErrUntrusted) {
			return nil, luax.ExitRefused
		}
		return nil, luax.ExitUsage
	}
	if _, err := compile(string(tf.Source), "@"+ref.Name+".lua"); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, luax.ExitSyntax
	}
	if !validStdinName(ref.Name) {
		fmt.Fprintf(stderr, "%s: playbook name %q: letters, digits, '.', '_' and '-' only\n", cmd, ref.Name)
		return nil, luax.ExitUsage
	}
	return &fleetPlaybook{name: ref.Name, src: tf.Source, sha: tf.SHA256}, luax.ExitOK
}

// runFleetLocal is `ctrsh fleet local PLAYBOOK [ARGS...]`: the playbook run
// here by a child `ctrsh run PLAYBOOK --json ARGS`, its rows in the fleet's
// format (host column, summary row). It is what the pods of `ctrsh fleet
// k8s` run; with --hold it then waits for SIGTERM, as a DaemonSet's pod must.
func runFleetLocal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := defaultFleetFlags()
	f.timeout = 0
	rest, err := parseFleetArgs(&f, args, "host-name", "hold", "timeout", "json", "safe")
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet local: %v\n", err)
		return luax.ExitUsage
	}
	if f.help {
		fmt.Fprint(stdout, fleetUsage)
		return luax.ExitOK
	}
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "ctrsh fleet local: which playbook? usage: ctrsh fleet local PLAYBOOK [ARGS...]")
		return luax.ExitUsage
	}
	host := f.hostName
	if host == "" {
		host = os.Getenv("NODE_NAME")
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "ctrsh fleet local: %v\n", err)
		return luax.ExitInternal
	}
	argv := []string{self, "run", rest[0], "--json"}
	if f.timeout > 0 {
		argv = append(argv, "--timeout", f.timeout.String())
	}
	if f.safe {
		argv = append(argv, "--safe")
	}
	argv = append(argv, rest[1:]...)

	sig := newSignalCancel(ctx)
	defer sig.stop()
	out := newFleetOutput(f.json, stdout, stderr)
	results := fanOut(sig.ctx, out, []string{host}, 1, func(host string) hostResult {
		return runHost(sig.ctx, out, host, argv, nil, 0)
	})
	if f.hold && sig.received() == 0 {
		<-sig.ctx.Done()
		return luax.ExitOK
	}
	if n := sig.received(); n != 0 {
		return 128 + n
	}
	return worstExit(results)
}
