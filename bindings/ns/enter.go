package ns

// The Lua glue of ns.enter and ns.run (and the bodies c:enter and c:run
// share): arguments and options read, audited, results pushed. What they
// do is entry.go.

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// EnterFuncs are ns.enter and ns.run; the module's Loader appends them.
func (m *Module) EnterFuncs() []luax.Func {
	return []luax.Func{
		{Name: "enter", Doc: "ns.enter(target, cmd, {ns=, join_cgroup=, workdir=, user=, env=, capture=, stdin=, allow_host=}) --> {code=, stdout=, stderr=} | nil, err  (cmd: string split on spaces, or array)", Fn: m.luaEnter, Unsafe: true},
		{Name: "run", Doc: "ns.run(target, chunk, ...) --> the values the Lua chunk returns, evaluated inside the target's namespaces | nil, err", Fn: m.luaRun, Unsafe: true},
	}
}

// checkTarget reads the target argument: a PID, or a container ref for
// m's Targets; it raises when a PID is not a positive integer. failed is
// non-zero (the count to return) when it pushed nil, message. The caller
// closes the target.
func (m *Module) checkTarget(L *lua.LState, n int) (t Target, failed int) {
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
		if m.targets == nil {
			return Target{}, luax.Failf(L, "container %q: container names need the docker module", string(v))
		}
		t, err := m.targets.Target(L, string(v))
		if err != nil {
			return Target{}, luax.Fail(L, err)
		}
		return t, 0
	default:
		L.ArgError(n, "number or string expected, got "+luax.TypeName(L, n))
		return Target{}, 0
	}
}

func (m *Module) luaEnter(L *lua.LState) int {
	t, failed := m.checkTarget(L, 1)
	if failed != 0 {
		return failed
	}
	defer t.Close()
	return EnterLua(L, t, 2)
}

func (m *Module) luaRun(L *lua.LState) int {
	t, failed := m.checkTarget(L, 1)
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
	argv := luax.CheckCommand(L, n)
	o := luax.CheckOptions(L, n+1, "ns", "join_cgroup", "workdir", "user", "env", "capture", "stdin", "allow_host")
	env := luax.GetEnv(L)
	eo := EnterOptions{
		Namespaces: o.Strings("ns"),
		JoinCgroup: o.Bool("join_cgroup", false),
		Workdir:    o.String("workdir", ""),
		User:       o.String("user", ""),
		Env:        o.Env("env"),
		AllowHost:  o.Bool("allow_host", false),
		Pidfd:      t.Pidfd,
	}
	stdin := o.String("stdin", "")
	// Interactive when nothing asks for capture and a person is at a terminal.
	interactive := !o.Has("capture") && !o.Has("stdin") && env.Interactive && luax.IsTerminal(env.Stdin)
	eo.Capture = o.Bool("capture", !interactive)
	switch {
	case eo.Capture || o.Has("stdin"):
		eo.Stdin = strings.NewReader(stdin)
	case luax.IsTerminal(env.Stdin):
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
