package luax

import (
	"context"
	"io"
	"os"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// Env is what the command line hands every module: where output goes, how
// to reach the engine, and how the run was started. One per Lua state.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// JSON makes emit() write one JSON object per line.
	JSON bool
	// Color allows ANSI colour (a terminal and no NO_COLOR).
	Color bool
	// DockerHost is the engine endpoint (--host, DOCKER_HOST, or "" for the default socket).
	DockerHost string
	// CRIEndpoint is the CRI runtime's endpoint (--cri; "" for
	// CONTAINER_RUNTIME_ENDPOINT, then the usual sockets).
	CRIEndpoint string
	// Safe makes the state one for read-only diagnostics (--safe): no
	// files, processes, network or code loaded at run time (io but for
	// ctrsh's own stdout and stderr, os but for its time functions, load*,
	// dofile, debug, net, mkdir), and nothing that changes or enters a
	// container (Func.Unsafe). A c:run child has its parent's mode.
	Safe bool
	// ModuleDirs are the directories require searches for NAME.lua after
	// ctrsh's own modules: the playbook's directory and the playbook
	// directories. As root nothing else is searched, and each file is
	// read through the trust checks.
	ModuleDirs []string
	// InContainer marks the state of a chunk run inside a container's
	// namespaces (c:run): require loads no file there.
	InContainer bool
	// Interactive is true in the shell (prompts and terminals may be used).
	Interactive bool
	// Playbook names the script being run ("" in the shell), and its sha256.
	Playbook, PlaybookSHA256 string
	// FlushRows writes emit()'s buffered rows; set by the state builder.
	FlushRows func()
	// Foreground, in the shell, tracks a command that has the terminal (an
	// interactive c:enter); nil elsewhere.
	Foreground *Foreground
	// Audit records actions that change or enter a container (see Audit);
	// nil records nothing. An error means the record was not written and
	// the action must not happen.
	Audit func(action, subject string, fields map[string]any) error
	// ReadTerminal, when set, is how io.read, io.lines and io.stdin read
	// the standard input: the shell sets it to read the terminal (its line
	// editor paused) for as long as it runs. It returns what was typed, a
	// line at a time, io.EOF at Ctrl-D, and ctx's error when the statement
	// is cancelled (Ctrl-C) while it waits.
	ReadTerminal func(ctx context.Context, p []byte) (int, error)
	// Progress is the progress line on the terminal's standard error, nil
	// when standard error is not a terminal.
	Progress *Progress
	// Playbooks, when set, lists the playbooks a run can find (name and
	// description): help("word") searches their descriptions too.
	Playbooks func() []PlaybookDoc
}

// PlaybookDoc is a playbook's name and the description it declares.
type PlaybookDoc struct{ Name, Description string }

// Foreground tracks whether a command that a statement runs on the
// terminal has it: while one does, the terminal's Ctrl-C is that command's
// (the kernel sends SIGINT to the whole foreground group, the command
// included) and the shell does not stop the statement for it, as
// `ctrsh nsenter` does not stop an entered shell. A nil Foreground holds
// nothing.
type Foreground struct{ n atomic.Int32 }

// Take marks a command as having the terminal until release is called.
func (f *Foreground) Take() (release func()) {
	if f == nil {
		return func() {}
	}
	f.n.Add(1)
	return func() { f.n.Add(-1) }
}

// Held reports whether a command has the terminal.
func (f *Foreground) Held() bool { return f != nil && f.n.Load() > 0 }

const envKey = "ctrsh.env"

// SetEnv attaches env to L.
func SetEnv(L *lua.LState, env *Env) {
	ud := L.NewUserData()
	ud.Value = env
	L.G.Registry.RawSetString(envKey, ud)
}

// GetEnv returns the Env of L (a default writing to os.Stdout when none was set).
func GetEnv(L *lua.LState) *Env {
	if ud, ok := L.G.Registry.RawGetString(envKey).(*lua.LUserData); ok {
		if env, ok := ud.Value.(*Env); ok {
			return env
		}
	}
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin}
	SetEnv(L, env)
	return env
}

// Flush writes what emit() has buffered. Blocking calls (sleep, stream
// waits) call it first, so that rows appear before a script waits.
func Flush(L *lua.LState) {
	if env := GetEnv(L); env.FlushRows != nil {
		env.FlushRows()
	}
}

// hostRootKey holds the host root of a state in its registry: proc, ns
// and cgroup read /proc and /sys/fs/cgroup below it.
const hostRootKey = "ctrsh.hostroot"

// SetHostRoot makes the host modules of L read below dir instead of "/"
// (tests point it at a fixture tree unpacked by fixtures/trees.Unpack).
func SetHostRoot(L *lua.LState, dir string) {
	L.G.Registry.RawSetString(hostRootKey, lua.LString(dir))
}

// HostRoot is the host root of L: "/" unless SetHostRoot changed it.
func HostRoot(L *lua.LState) string {
	if s, ok := L.G.Registry.RawGetString(hostRootKey).(lua.LString); ok && s != "" {
		return string(s)
	}
	return "/"
}
