package ns

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/nsenter"
)

// EnterFuncs are ns.enter and ns.run; the module's Loader appends them.
var EnterFuncs = []luax.Func{
	{Name: "enter", Doc: "ns.enter(target, cmd, {ns=, join_cgroup=, workdir=, user=, env=, capture=, stdin=, allow_host=}) --> {code=, stdout=, stderr=} | nil, err  (cmd: string split on spaces, or array)", Fn: luaEnter, Unsafe: true},
	{Name: "run", Doc: "ns.run(target, chunk, ...) --> the values the Lua chunk returns, evaluated inside the target's namespaces | nil, err", Fn: luaRun, Unsafe: true},
}

// Target is a process to act on: its PID, the pidfd that pins it, and the
// subject that names it in messages (`container "web"`, `process 42`).
type Target struct {
	PID int
	// Pidfd pins the process (pidfd_open) once it was checked to be the
	// container's; nil for a PID given as it is (entering pins it then).
	Pidfd   *os.File
	Subject string
}

// Alive reports whether a pinned target still lives: what was read about
// it under /proc was its own only if it does. Nil for an unpinned target.
func (t Target) Alive() error {
	if t.Pidfd == nil {
		return nil
	}
	rc, err := t.Pidfd.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.PidfdSendSignal(int(fd), 0, nil, 0) }); err != nil {
		return err
	}
	if errors.Is(serr, unix.ESRCH) {
		return fmt.Errorf("process %d: %w", t.PID, nsenter.ErrTargetGone)
	}
	return serr
}

// Close lets a pinned target go.
func (t Target) Close() {
	if t.Pidfd != nil {
		t.Pidfd.Close()
	}
}

// ResolveTarget turns a target that is not a PID (a container name or id)
// into the process to act on, pinned and checked to be the container's
// (the caller closes it). The docker module sets it; nil means only PIDs.
var ResolveTarget func(L *lua.LState, ref string) (Target, error)

// EnterOptions are the options of Enter (c:enter and ns.enter).
type EnterOptions struct {
	Namespaces []string // nil: every namespace of the target that differs from ours
	JoinCgroup bool
	Workdir    string
	User       string   // "user[:group]" inside the container
	Env        []string // KEY=VALUE over the target's environment
	// Capture collects stdout and stderr into the result; otherwise they go
	// to Stdout and Stderr (a terminal is passed as it is: interactive).
	Capture        bool
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	AllowHost      bool
	// Pidfd pins the target (see nsenter.Options.Pidfd); nil pins it here.
	Pidfd *os.File
}

// EnterResult is what a command run inside returned.
type EnterResult struct {
	Code           int
	Stdout, Stderr []byte // when captured
}

// Enter runs argv inside the namespaces of process pid (see nsenter.Exec).
// The error is non-nil when entering failed, the command was not found
// (wrapping nsenter.ErrNotFound), or ctx ended; res.Code is the command's
// exit code, 128+N for signal N.
func Enter(ctx context.Context, pid int, argv []string, o EnterOptions) (*EnterResult, error) {
	var stdout, stderr bytes.Buffer
	opts := nsenter.Options{
		PID: pid, Namespaces: o.Namespaces, JoinCgroup: o.JoinCgroup, Workdir: o.Workdir,
		User: o.User, Env: o.Env, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, AllowHost: o.AllowHost,
		Pidfd: o.Pidfd,
	}
	if o.Capture {
		opts.Stdout, opts.Stderr = &stdout, &stderr
	}
	code, err := nsenter.Exec(ctx, opts, argv)
	res := &EnterResult{Code: code}
	if o.Capture {
		res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	}
	return res, err
}

// RunOptions are the options of RunChunk.
type RunOptions struct {
	Namespaces     []string
	JoinCgroup     bool
	Workdir        string
	User           string
	Stdout, Stderr io.Writer // where print() inside goes
	AllowHost      bool
	ChunkName      string   // for error messages, default "=(run)"
	Pidfd          *os.File // pins the target (see nsenter.Options.Pidfd)
	// Safe builds the chunk's state in --safe mode: the child has its
	// parent's mode, whatever it was started with.
	Safe bool
}

// RunChunk evaluates the Lua chunk inside the namespaces of process pid,
// in a ctrsh state of its own (RunChild), with args as its `...`, and
// returns its values, built in L. Tables arrive intact (see wire.go).
func RunChunk(ctx context.Context, L *lua.LState, pid int, chunk string, args []lua.LValue, o RunOptions) ([]lua.LValue, error) {
	name := o.ChunkName
	if name == "" {
		name = "=(run)"
	}
	payload, err := encodeValues(L, append([]lua.LValue{lua.LString(chunk), lua.LString(name), lua.LBool(o.Safe)}, args...))
	if err != nil {
		return nil, fmt.Errorf("arguments of the chunk: %w", err)
	}
	result, _, err := nsenter.Run(ctx, nsenter.Options{
		PID: pid, Namespaces: o.Namespaces, JoinCgroup: o.JoinCgroup, Workdir: o.Workdir, User: o.User,
		Stdout: o.Stdout, Stderr: o.Stderr, AllowHost: o.AllowHost, Pidfd: o.Pidfd,
	}, payload)
	if err != nil {
		return nil, err
	}
	vals, err := decodeValues(L, result)
	if err != nil {
		return nil, fmt.Errorf("process %d: the chunk's results: %w", pid, err)
	}
	return vals, nil
}

// RunChild is the inside half of ns.run. The program's main calls it first
// thing: in the process that nsenter re-executed inside a container it runs
// the chunk in a state made by newState with the parent's mode (ctrsh's
// modules, reading the container's /proc; bindings.NewChild), sends its
// values back, and returns true: main then exits 0. Anywhere else it
// returns false at once.
func RunChild(newState func(safe bool) *lua.LState) (handled bool) {
	payload, ok := nsenter.ChildPayload()
	if !ok {
		return false
	}
	// The mode is among the values: read them once in a bare state to
	// learn it, then again in the chunk's own.
	bare := lua.NewState(lua.Options{SkipOpenLibs: true})
	vals, err := decodeValues(bare, payload)
	bare.Close()
	if err != nil || len(vals) < 3 || vals[2].Type() != lua.LTBool {
		nsenter.ChildFail("the chunk: malformed payload")
		return true
	}
	L := newState(vals[2] == lua.LTrue)
	defer L.Close()
	if vals, err = decodeValues(L, payload); err != nil {
		nsenter.ChildFail("the chunk: malformed payload")
		return true
	}
	fn, err := luax.Load(L, strings.NewReader(vals[0].String()), vals[1].String())
	if err != nil {
		nsenter.ChildFail(err.Error())
		return true
	}
	base := L.GetTop()
	L.Push(fn)
	for _, a := range vals[3:] {
		L.Push(a)
	}
	if err := luax.PCall(L, len(vals)-3, lua.MultRet, nil); err != nil {
		msg := err.Error()
		if apiErr, ok := err.(*lua.ApiError); ok {
			msg = luax.ToString(L, apiErr.Object)
		}
		nsenter.ChildFail(msg)
		return true
	}
	var results []lua.LValue
	for i := base + 1; i <= L.GetTop(); i++ {
		results = append(results, L.Get(i))
	}
	out, err := encodeValues(L, results)
	if err != nil {
		nsenter.ChildFail("the chunk's results: " + err.Error())
		return true
	}
	nsenter.ChildReply(out)
	return true
}

// checkTarget reads the target argument: a PID, or a ref for ResolveTarget.
// failed is non-zero (the count to return) when it pushed nil, message.
// The caller closes the target.
func checkTarget(L *lua.LState, n int) (t Target, failed int) {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		p, ok := luax.Integer(v)
		if !ok {
			L.ArgError(n, "pid must be an integer")
		}
		if p <= 0 {
			L.ArgError(n, "pid must be positive")
		}
		return Target{PID: p, Subject: fmt.Sprintf("process %d", p)}, 0
	case lua.LString:
		if p, err := strconv.Atoi(string(v)); err == nil {
			if p <= 0 {
				L.ArgError(n, "pid must be positive")
			}
			return Target{PID: p, Subject: fmt.Sprintf("process %d", p)}, 0
		}
		if ResolveTarget == nil {
			return Target{}, luax.Failf(L, "container %q: container names need the docker module", string(v))
		}
		t, err := ResolveTarget(L, string(v))
		if err != nil {
			return Target{}, luax.Fail(L, err)
		}
		return t, 0
	default:
		L.ArgError(n, "number or string expected, got "+typeName(L, n))
		return Target{}, 0
	}
}

func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// checkCommand reads cmd: a string split on white space, or an array.
func checkCommand(L *lua.LState, n int) []string {
	var argv []string
	switch v := L.Get(n).(type) {
	case lua.LString:
		argv = strings.Fields(string(v))
	case *lua.LTable:
		list, err := luax.StringList(v)
		if err != nil {
			L.ArgError(n, "array of strings expected: "+err.Error())
		}
		argv = list
	default:
		L.ArgError(n, "string or array expected, got "+typeName(L, n))
	}
	if len(argv) == 0 {
		L.ArgError(n, "empty command")
	}
	return argv
}

// envOption reads env= as {KEY="value"} or {"KEY=value"}.
func envOption(o *luax.Options) []string {
	t := o.TableOpt("env")
	if t == nil {
		return nil
	}
	var out []string
	t.ForEach(func(k, v lua.LValue) {
		switch k := k.(type) {
		case lua.LNumber:
			out = append(out, v.String())
		case lua.LString:
			out = append(out, string(k)+"="+v.String())
		}
	})
	sort.Strings(out)
	return out
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func luaEnter(L *lua.LState) int {
	t, failed := checkTarget(L, 1)
	if failed != 0 {
		return failed
	}
	defer t.Close()
	return EnterLua(L, t, 2)
}

func luaRun(L *lua.LState) int {
	t, failed := checkTarget(L, 1)
	if failed != 0 {
		return failed
	}
	defer t.Close()
	return RunLua(L, t, 2)
}

// EnterLua is the body of ns.enter and c:enter: it reads cmd at argument n
// and the options at n+1, enters the target, and pushes {code=, stdout=,
// stderr=} or nil, message (prefixed with its subject when that is not the
// process).
func EnterLua(L *lua.LState, t Target, n int) int {
	pid, subject := t.PID, t.Subject
	argv := checkCommand(L, n)
	o := luax.CheckOptions(L, n+1, "ns", "join_cgroup", "workdir", "user", "env", "capture", "stdin", "allow_host")
	env := luax.GetEnv(L)
	eo := EnterOptions{
		Namespaces: o.Strings("ns"),
		JoinCgroup: o.Bool("join_cgroup", false),
		Workdir:    o.String("workdir", ""),
		User:       o.String("user", ""),
		Env:        envOption(o),
		AllowHost:  o.Bool("allow_host", false),
		Pidfd:      t.Pidfd,
	}
	stdin := o.String("stdin", "")
	// Interactive when nothing asks for capture and a person is at a terminal.
	interactive := !o.Has("capture") && !o.Has("stdin") && env.Interactive && isTerminal(env.Stdin)
	eo.Capture = o.Bool("capture", !interactive)
	switch {
	case eo.Capture || o.Has("stdin"):
		eo.Stdin = strings.NewReader(stdin)
	case isTerminal(env.Stdin):
		eo.Stdin = env.Stdin
	}
	if !eo.Capture {
		eo.Stdout, eo.Stderr = env.Stdout, env.Stderr
		if interactive {
			// The terminal is the entered command's, as docker exec -it
			// gives it; otherwise its output is escaped on the way.
			eo.Stdout, eo.Stderr = luax.Raw(env.Stdout), luax.Raw(env.Stderr)
		}
	}
	fields := map[string]any{"target_pid": pid, "cmd": argv, "ns": eo.Namespaces}
	if eo.User != "" {
		fields["as_user"] = eo.User // "user" is who ran ctrsh
	}
	done, err := luax.Audit(L, "enter", subject, fields)
	if err != nil {
		return luax.Fail(L, err)
	}
	if interactive {
		// The command has the terminal: the shell's Ctrl-C is its own, as
		// with ctrsh nsenter (SIGTERM and the like still end it).
		defer env.Foreground.Take()()
	}
	res, err := Enter(luax.Ctx(L), pid, argv, eo)
	done(err, map[string]any{"target_pid": pid, "code": res.Code})
	if err != nil {
		return luax.Fail(L, prefix(subject, pid, err))
	}
	r := L.NewTable()
	r.RawSetString("code", lua.LNumber(res.Code))
	if eo.Capture {
		r.RawSetString("stdout", lua.LString(res.Stdout))
		r.RawSetString("stderr", lua.LString(res.Stderr))
	}
	L.Push(r)
	return 1
}

// RunLua is the body of ns.run and c:run: the chunk is argument n, its
// arguments follow; it pushes the chunk's values or nil, message.
func RunLua(L *lua.LState, t Target, n int) int {
	pid, subject := t.PID, t.Subject
	chunk := L.CheckString(n)
	var args []lua.LValue
	for i := n + 1; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	env := luax.GetEnv(L)
	done, err := luax.Audit(L, "run", subject, map[string]any{"target_pid": pid, "chunk": chunk})
	if err != nil {
		return luax.Fail(L, err)
	}
	vals, err := RunChunk(luax.Ctx(L), L, pid, chunk, args, RunOptions{Stdout: env.Stdout, Stderr: env.Stderr, Pidfd: t.Pidfd, Safe: env.Safe})
	done(err, map[string]any{"target_pid": pid})
	if err != nil {
		return luax.Fail(L, prefix(subject, pid, err))
	}
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// prefix names the subject when it is not the process nsenter names.
func prefix(subject string, pid int, err error) error {
	if subject == "" || subject == fmt.Sprintf("process %d", pid) {
		return err
	}
	return fmt.Errorf("%s: %w", subject, err)
}

// ErrNotSupported is nsenter.ErrNotSupported, for callers of this package.
var ErrNotSupported = nsenter.ErrNotSupported

// The wire form of Lua values between ctrsh and a chunk run inside a
// container (ns.run). It is lossless where JSON is not: integer and string
// keys stay apart, mixed and sparse tables keep their shape, strings may hold
// any bytes. Functions and userdata travel as their tostring form; a table
// that contains itself is cut with the string "<cycle>".
const (
	wireNil byte = iota
	wireFalse
	wireTrue
	wireNumber
	wireString
	wireTable
)

// maxWireDepth bounds the nesting of tables, both ways.
const maxWireDepth = 200

func encodeValues(L *lua.LState, vals []lua.LValue) ([]byte, error) {
	var b bytes.Buffer
	b.Write(binary.AppendUvarint(nil, uint64(len(vals))))
	for _, v := range vals {
		if err := encodeValue(L, &b, v, 0, map[*lua.LTable]bool{}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func encodeValue(L *lua.LState, b *bytes.Buffer, v lua.LValue, depth int, seen map[*lua.LTable]bool) error {
	switch v := v.(type) {
	case *lua.LNilType:
		b.WriteByte(wireNil)
	case lua.LBool:
		if v {
			b.WriteByte(wireTrue)
		} else {
			b.WriteByte(wireFalse)
		}
	case lua.LNumber:
		b.WriteByte(wireNumber)
		b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(v))))
	case lua.LString:
		writeString(b, string(v))
	case *lua.LTable:
		if seen[v] {
			writeString(b, "<cycle>")
			return nil
		}
		if depth >= maxWireDepth {
			return fmt.Errorf("tables nested deeper than %d", maxWireDepth)
		}
		seen[v] = true
		defer delete(seen, v)
		keys := luax.SortedKeys(v)
		b.WriteByte(wireTable)
		b.Write(binary.AppendUvarint(nil, uint64(len(keys))))
		for _, k := range keys {
			if err := encodeValue(L, b, k, depth+1, seen); err != nil {
				return err
			}
			if err := encodeValue(L, b, v.RawGet(k), depth+1, seen); err != nil {
				return err
			}
		}
	default:
		writeString(b, luax.ToString(L, v))
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte(wireString)
	b.Write(binary.AppendUvarint(nil, uint64(len(s))))
	b.WriteString(s)
}

var errWire = errors.New("malformed values")

func decodeValues(L *lua.LState, data []byte) ([]lua.LValue, error) {
	d := decoder{L: L, b: data}
	n, err := d.uvarint()
	if err != nil || n > uint64(len(data)) {
		return nil, errWire
	}
	out := make([]lua.LValue, 0, n)
	for i := uint64(0); i < n; i++ {
		v, err := d.value(0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(d.b) != 0 {
		return nil, errWire
	}
	return out, nil
}

type decoder struct {
	L *lua.LState
	b []byte
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errWire
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) value(depth int) (lua.LValue, error) {
	if len(d.b) == 0 || depth > maxWireDepth {
		return nil, errWire
	}
	tag := d.b[0]
	d.b = d.b[1:]
	switch tag {
	case wireNil:
		return lua.LNil, nil
	case wireFalse:
		return lua.LFalse, nil
	case wireTrue:
		return lua.LTrue, nil
	case wireNumber:
		if len(d.b) < 8 {
			return nil, errWire
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return lua.LNumber(f), nil
	case wireString:
		n, err := d.uvarint()
		if err != nil || n > uint64(len(d.b)) {
			return nil, errWire
		}
		s := string(d.b[:n])
		d.b = d.b[n:]
		return lua.LString(s), nil
	case wireTable:
		n, err := d.uvarint()
		if err != nil || n > uint64(len(d.b)) {
			return nil, errWire
		}
		t := d.L.CreateTable(0, int(n))
		for i := uint64(0); i < n; i++ {
			k, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if k == lua.LNil {
				return nil, errWire
			}
			if f, ok := k.(lua.LNumber); ok && math.IsNaN(float64(f)) {
				return nil, errWire
			}
			t.RawSet(k, v)
		}
		return t, nil
	}
	return nil, errWire
}
