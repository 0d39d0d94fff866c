package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/nsenter"
)

// grace is how long a cancelled run (--timeout, a signal) has to unwind
// before ctrsh exits hard (a Go builtin that does not honour its context
// cannot stop the VM). It is the longest grace of all: an entered command
// is sent SIGTERM when the run is cancelled and SIGKILL nsenter.Grace
// later, so it is always gone, and the end of its entry audited, before
// ctrsh gives up.
const grace = 2 * nsenter.Grace

// chunk is a script to run: its chunk name (for messages), source, and the
// arguments of Lua's arg table.
type chunk struct {
	name  string
	src   string
	argv0 string
	args  []string
}

// runChunk compiles and runs one chunk, mapping the outcome to an exit code
// of DESIGN.md.
func runChunk(env *luax.Env, o *options, c chunk, setup ...func(L *lua.LState)) int {
	proto, err := compile(c.src, c.name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ctrsh: %v\n", err)
		return luax.ExitSyntax
	}
	L := bindings.New(env)
	defer L.Close()
	setArgs(L, c.argv0, c.args)
	for _, fn := range setup {
		fn(L)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if o.timeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, o.timeout)
		defer cancelT()
	}
	sig := newSignalCancel(ctx)
	ctx = sig.ctx
	defer sig.stop()
	done := make(chan struct{})
	defer close(done)
	go watchdog(ctx, done, sig, env.Stderr)

	L.SetContext(ctx)
	fn := L.NewFunctionFromProto(proto)
	L.Push(fn)
	for _, a := range c.args {
		L.Push(lua.LString(a))
	}
	err = luax.PCall(L, len(c.args), lua.MultRet, nil)
	if env.FlushRows != nil {
		env.FlushRows()
	}
	return exitCode(ctx, sig, env.Stderr, err)
}

// compile parses src as a chunk named name ("@file", "=stdin").
func compile(src, name string) (*lua.FunctionProto, error) {
	chunkName := strings.TrimPrefix(strings.TrimPrefix(name, "@"), "=")
	return luax.Compile(strings.NewReader(src), chunkName)
}

// setArgs sets Lua's arg table: arg[0] is the script, arg[1..] its arguments,
// and the chunk also receives them as `...`.
func setArgs(L *lua.LState, argv0 string, args []string) {
	t := L.NewTable()
	t.RawSetInt(0, lua.LString(argv0))
	for i, a := range args {
		t.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", t)
}

// exitCode maps the result of a run to an exit code, printing the message.
func exitCode(ctx context.Context, sig *signalCancel, stderr io.Writer, err error) int {
	if n := sig.received(); n != 0 {
		fmt.Fprintf(stderr, "ctrsh: stopped by %s\n", unixSignalName(n))
		return 128 + n
	}
	if err == nil {
		return luax.ExitOK
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		fmt.Fprintln(stderr, "ctrsh: timeout: the run took longer than --timeout")
		return luax.ExitTimeout
	}
	var apiErr *lua.ApiError
	if !errors.As(err, &apiErr) {
		fmt.Fprintf(stderr, "ctrsh: %v\n", err)
		return luax.ExitError
	}
	if e, ok := luax.AsExit(apiErr.Object); ok {
		if e.Msg != "" {
			fmt.Fprintf(stderr, "ctrsh: %s\n", strings.TrimRight(e.Msg, "\n"))
		}
		return e.Code
	}
	switch apiErr.Type {
	case lua.ApiErrorSyntax:
		fmt.Fprintf(stderr, "ctrsh: %s\n", apiErr.Object.String())
		return luax.ExitSyntax
	case lua.ApiErrorPanic:
		fmt.Fprintf(stderr, "ctrsh: internal error: %s\n", apiErr.Object.String())
		return luax.ExitInternal
	}
	fmt.Fprintf(stderr, "ctrsh: %s\n", apiErr.Object.String())
	if tb := strings.TrimSpace(apiErr.StackTrace); tb != "" {
		fmt.Fprintf(stderr, "%s\n", tb)
	}
	return luax.ExitError
}

// signalCancel cancels a run on SIGINT or SIGTERM and remembers which.
type signalCancel struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan os.Signal
	mu     sync.Mutex
	sig    int
	quit   chan struct{}
}

func newSignalCancel(parent context.Context) *signalCancel {
	ctx, cancel := context.WithCancel(parent)
	s := &signalCancel{ctx: ctx, cancel: cancel, ch: make(chan os.Signal, 2), quit: make(chan struct{})}
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for {
			select {
			case v := <-s.ch:
				s.mu.Lock()
				if s.sig == 0 {
					s.sig = int(v.(syscall.Signal))
				}
				s.mu.Unlock()
				s.cancel()
			case <-s.quit:
				return
			}
		}
	}()
	return s
}

func (s *signalCancel) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

func (s *signalCancel) stop() {
	signal.Stop(s.ch)
	close(s.quit)
	s.cancel()
}

// signalContext is a context cancelled by SIGINT or SIGTERM, for subcommands.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
}

// watchdog exits the process when a cancelled run does not unwind within
// the grace period (a Go builtin that ignores its context).
func watchdog(ctx context.Context, done <-chan struct{}, sig *signalCancel, stderr io.Writer) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		if n := sig.received(); n != 0 {
			fmt.Fprintf(stderr, "ctrsh: stopped by %s (hard exit: a builtin did not stop)\n", unixSignalName(n))
			os.Exit(128 + n)
		}
		fmt.Fprintln(stderr, "ctrsh: timeout: hard exit after the grace period (a builtin did not stop)")
		os.Exit(luax.ExitTimeout)
	}
}

func unixSignalName(n int) string {
	switch syscall.Signal(n) {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return syscall.Signal(n).String()
}
