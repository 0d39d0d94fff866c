// Package repl is ctrsh's interactive shell: a read-eval-print loop over a
// gopher-lua state, with line editing and history (chzyer/readline),
// multi-line input decided by the parser, expressions printed, Tab
// completion of globals, module fields and userdata methods, and Ctrl-C
// that stops the running statement only.
//
// It knows nothing about containers: the caller brings the Lua state, the
// printer and any extra completion.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chzyer/readline"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Config is how the shell looks and where it reads and writes.
type Config struct {
	// Prompt and ContPrompt default to "ctrsh> " and "   ...> " (the
	// latter while a chunk is unfinished).
	Prompt, ContPrompt string
	// HistoryFile defaults to ~/.ctrsh_history; with no home directory
	// there is no history file.
	HistoryFile string
	// Stdin defaults to os.Stdin, Stdout and Stderr to os.Stdout and
	// os.Stderr. When Stdin is a terminal (an *os.File), readline puts
	// that terminal in raw mode while it reads a line.
	Stdin          io.ReadCloser
	Stdout, Stderr io.Writer
	// Print prints the values of an expression typed alone; by default
	// their tostring, tab separated. It runs as part of the statement:
	// Ctrl-C stops it and a Lua error it raises is reported.
	Print func(L *lua.LState, values []lua.LValue)
	// Complete, when set, adds completion candidates: given the input
	// before the cursor, it returns words that complete the word being
	// typed, the text after the last of ` \t"'()[]{},;=+-*/<>~` — e.g.
	// container names for `docker.container("we`. It is called on
	// readline's goroutine while no statement runs, so it may use L.
	Complete func(L *lua.LState, expr string) []string
	// Banner is printed at start when Stdin is a terminal.
	Banner string
	// Color allows ANSI colour in error messages.
	Color bool
	// Foreground, when a statement has handed the terminal to a command it
	// runs (Held), makes Ctrl-C that command's alone: the statement goes
	// on. Nil: Ctrl-C always stops the statement.
	Foreground *luax.Foreground
}

const (
	defaultPrompt     = "ctrsh> "
	defaultContPrompt = "   ...> "
	historyName       = ".ctrsh_history"
)

// Run reads statements, runs them in L and prints what they return until
// Ctrl-D at an empty prompt (it returns nil then) or until ctx is done (it
// returns ctx.Err()).
//
// Each statement runs under its own context, derived from ctx and set with
// L.SetContext; Run catches SIGINT for as long as it runs and cancels only
// the statement running then (at the prompt, readline has the terminal in
// raw mode and Ctrl-C clears the line). So ctx itself should not be
// cancelled by SIGINT, only by what ends the whole shell (SIGTERM).
func Run(ctx context.Context, L *lua.LState, cfg Config) error {
	s := newShell(L, cfg)
	if s.history != "" {
		if err := prepareHistory(s.history); err != nil {
			fmt.Fprintf(s.stderr, "ctrsh: history: %v\n", err)
			s.history = ""
		}
	}

	// idle is held except while readline waits for a line: completion,
	// on readline's goroutine, uses L only when it can take it.
	var idle sync.Mutex
	idle.Lock()

	in := cfg.Stdin
	if in == nil {
		in = os.Stdin
	}
	rl, stdin, isTerm, err := s.newReadline(in, &completer{L: L, idle: &idle, extra: cfg.Complete})
	if err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		rl.Close()
	}()
	defer s.watch(ctx, stdin, cfg.Foreground)()
	if isTerm {
		defer s.lendTerminal(in)()
		if cfg.Banner != "" {
			fmt.Fprintln(s.stdout, cfg.Banner)
		}
	}

	read := func(prompt string) (string, error) {
		rl.SetPrompt(prompt)
		idle.Unlock()
		defer idle.Lock()
		return rl.Readline()
	}
	return s.loop(ctx, read)
}

// newReadline sets readline up to read in, completing with complete, and
// says whether in is a terminal. Closing the returned stdin ends a pending
// read (readline cannot end a read blocked on its input otherwise): it then
// returns io.EOF.
func (s *shell) newReadline(in io.ReadCloser, complete readline.AutoCompleter) (*readline.Instance, *readline.CancelableStdin, bool, error) {
	rlcfg := &readline.Config{
		Prompt:            s.prompt,
		HistoryFile:       s.history,
		HistorySearchFold: true,
		AutoComplete:      complete,
		Stdout:            s.stdout,
		Stderr:            s.stderr,
	}
	stdin := readline.NewCancelableStdin(in)
	rlcfg.Stdin = stdin
	isTerm := false
	if f, ok := in.(interface{ Fd() uintptr }); ok {
		isTerm = luax.IsTerminal(f)
		setTerminal(rlcfg, int(f.Fd()), isTerm)
	}
	if f, ok := s.stdout.(interface{ Fd() uintptr }); ok {
		outFd := int(f.Fd())
		rlcfg.FuncGetWidth = func() int { return width(outFd) }
	}
	rl, err := readline.NewEx(rlcfg)
	if err != nil {
		stdin.Close()
		return nil, nil, false, fmt.Errorf("readline: %w", err)
	}
	return rl, stdin, isTerm, nil
}

// watch, until the returned stop is called, ends a pending read when ctx
// ends (SIGTERM, a caller's deadline: readline then returns io.EOF, and the
// loop sees ctx is done) and makes SIGINT cancel the running statement only
// (or, while fg holds the terminal, nothing: the terminal's Ctrl-C reached
// the command that has it).
func (s *shell) watch(ctx context.Context, stdin io.Closer, fg *luax.Foreground) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stdin.Close()
		case <-done:
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	go func() {
		for range sigs {
			if fg.Held() {
				continue
			}
			s.interrupt()
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(sigs)
		close(done)
	}
}

// lendTerminal makes a statement's reads of the standard input read the
// terminal in, readline paused, until the returned function is called.
func (s *shell) lendTerminal(in io.Reader) (release func()) {
	f, ok := in.(interface{ Fd() uintptr })
	if !ok {
		return func() {}
	}
	term, err := newTerminal(int(f.Fd()))
	if err != nil {
		return func() {}
	}
	env := luax.GetEnv(s.L)
	env.ReadTerminal = term.read
	return func() {
		env.ReadTerminal = nil
		term.close()
	}
}

// loop reads chunks with read until Ctrl-D at an empty prompt (nil) or the
// end of ctx (ctx.Err()), and runs each complete one.
func (s *shell) loop(ctx context.Context, read func(prompt string) (string, error)) error {
	var lines []string
	for {
		prompt := s.prompt
		if len(lines) > 0 {
			prompt = s.contPrompt
		}
		line, err := read(prompt)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			// Ctrl-C at the prompt clears the line and any unfinished chunk.
			lines = nil
			continue
		case errors.Is(err, io.EOF):
			if len(lines) == 0 {
				return nil
			}
			// Ctrl-D in an unfinished chunk: say what is missing, as lua.c
			// does, and start again.
			s.printError(compileChunk(strings.Join(lines, "\n")).err.Error(), "")
			lines = nil
			continue
		case err != nil:
			return fmt.Errorf("reading input: %w", err)
		}
		if len(lines) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		lines = append(lines, line)
		c := compileChunk(strings.Join(lines, "\n"))
		switch c.verdict {
		case more:
			continue
		case invalid:
			s.printError(c.err.Error(), "")
			lines = nil
			continue
		}
		lines = nil
		if err := s.exec(ctx, c); err != nil {
			return err
		}
	}
}

// shell is the state of one Run.
type shell struct {
	L                  *lua.LState
	prompt, contPrompt string
	history            string
	stdout, stderr     io.Writer
	print              func(L *lua.LState, values []lua.LValue)
	color              bool

	mu     sync.Mutex
	cancel context.CancelFunc // of the running statement, nil at the prompt
}

func newShell(L *lua.LState, cfg Config) *shell {
	s := &shell{
		L:          L,
		prompt:     cfg.Prompt,
		contPrompt: cfg.ContPrompt,
		history:    cfg.HistoryFile,
		stdout:     cfg.Stdout,
		stderr:     cfg.Stderr,
		print:      cfg.Print,
		color:      cfg.Color,
	}
	if s.prompt == "" {
		s.prompt = defaultPrompt
	}
	if s.contPrompt == "" {
		s.contPrompt = defaultContPrompt
	}
	if s.history == "" {
		if home := os.Getenv("HOME"); home != "" {
			s.history = filepath.Join(home, historyName)
		}
	}
	if s.stdout == nil {
		s.stdout = os.Stdout
	}
	if s.stderr == nil {
		s.stderr = os.Stderr
	}
	if s.print == nil {
		s.print = s.defaultPrint
	}
	return s
}

// exec runs one compiled chunk under a context of its own and prints its
// values or its error. It returns an error only when ctx is done.
func (s *shell) exec(ctx context.Context, c chunk) error {
	L := s.L
	stmtCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
	}()

	L.SetTop(0)
	L.SetContext(stmtCtx)
	defer func() {
		L.RemoveContext()
		L.SetTop(0)
	}()

	L.Push(L.NewFunctionFromProto(c.proto))
	err := luax.PCall(L, 0, lua.MultRet, nil)
	if err == nil && L.GetTop() > 0 {
		values := make([]lua.LValue, L.GetTop())
		for i := range values {
			values[i] = L.Get(i + 1)
		}
		L.SetTop(0)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			s.print(L, values)
			return 0
		}))
		err = luax.PCall(L, 0, 0, nil)
	}
	if stmtCtx.Err() != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Cancelled by Ctrl-C: the statement's own error (a context
		// error raised by whatever was running) says nothing more.
		s.printNote("interrupted")
		return nil
	}
	if err != nil {
		s.printError(errorText(L, err))
	}
	return nil
}

// interrupt cancels the running statement, if any.
func (s *shell) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
}

// defaultPrint prints the tostring of each value, tab separated, as Lua's
// print does, escaped (see printError).
func (s *shell) defaultPrint(L *lua.LState, values []lua.LValue) {
	strs := make([]string, len(values))
	for i, v := range values {
		strs[i] = luax.ToString(L, v)
	}
	fmt.Fprintln(s.stdout, luax.Escape(strings.Join(strs, "\t")))
}

const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// printError prints an error: its text escaped (it may quote what a
// container wrote), then coloured.
func (s *shell) printError(msg, trace string) {
	msg, trace = luax.Escape(msg), luax.Escape(trace)
	if s.color {
		msg = red + msg + reset
	}
	fmt.Fprintln(s.stderr, msg)
	if trace != "" {
		fmt.Fprintln(s.stderr, trace)
	}
}

func (s *shell) printNote(msg string) {
	if s.color {
		msg = yellow + msg + reset
	}
	// The terminal echoed ^C on the current line.
	fmt.Fprintln(s.stderr, "\n"+msg)
}

// prepareHistory creates the history file readable by its owner only
// (what is typed at a root shell may hold secrets) before readline opens it.
func prepareHistory(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// setTerminal points readline's terminal handling at fd instead of the
// process's standard input.
func setTerminal(cfg *readline.Config, fd int, isTerm bool) {
	var state *readline.State
	cfg.FuncIsTerminal = func() bool { return isTerm }
	cfg.FuncMakeRaw = func() error {
		st, err := readline.MakeRaw(fd)
		if err != nil {
			return err
		}
		state = st
		return nil
	}
	cfg.FuncExitRaw = func() error {
		if state == nil {
			return nil
		}
		return readline.Restore(fd, state)
	}
}

// width is the terminal's width in columns, 80 when it does not say
// (readline turns completion off for a width of 0).
func width(fd int) int {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}
