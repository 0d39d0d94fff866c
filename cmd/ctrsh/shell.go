package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/repl"
)

// runShell runs the interactive shell on the terminal. The shell catches
// SIGINT itself (it stops the running statement only); SIGTERM ends it.
func runShell(env *luax.Env, o *options) int {
	env.Interactive = true
	env.Foreground = &luax.Foreground{}
	L := bindings.New(env)
	defer L.Close()
	setArgs(L, "ctrsh", nil)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	history := ""
	if home := os.Getenv("HOME"); home != "" {
		history = filepath.Join(home, ".ctrsh_history")
	}
	// The shell's prompt, line editing and colours reach the terminal as
	// they are; values and errors are escaped (the value printer writes to
	// env.Stdout, repl escapes the messages it colours). A progress line a
	// failed statement left is erased before them.
	err := repl.Run(ctx, L, repl.Config{
		HistoryFile: history,
		Stdin:       os.Stdin,
		Stdout:      env.Progress.Guard(luax.Raw(env.Stdout)),
		Stderr:      env.Progress.Guard(luax.Raw(env.Stderr)),
		Banner:      fmt.Sprintf("ctrsh %s — help() lists modules, Tab completes, Ctrl-C stops a statement, Ctrl-D leaves", version),
		Color:       env.Color,
		Print: func(L *lua.LState, values []lua.LValue) {
			printValues(L, env, values)
		},
		Complete:   completeContainerNames,
		Foreground: env.Foreground,
	})
	if ctx.Err() != nil {
		return 128 + int(syscall.SIGTERM)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "ctrsh: %v\n", err)
		return luax.ExitError
	}
	return luax.ExitOK
}

// completeContainerNames offers container names inside an open string:
// docker.container("we<TAB>, ns.of("we<TAB>.
func completeContainerNames(L *lua.LState, expr string) []string {
	if strings.Count(expr, `"`)%2 == 0 && strings.Count(expr, `'`)%2 == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	e, err := docker.Client(L)
	if err != nil {
		return nil
	}
	list, err := docker.List(ctx, e, docker.ListOptions{All: true})
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(list))
	for _, c := range list {
		names = append(names, c.Name)
	}
	return names
}
