package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "logs: container logs as lines: tail, since/until, follow, timestamps, grep"

const readDoc = `logs.read(ref, {tail=, since=, ["until"]=, follow=false, timestamps=false, grep=, stdout=true, stderr=true}) --> iterator of {stream="stdout"|"stderr", time=, line=}, close | nil, err  (time is always set; timestamps=true also prefixes line as docker logs -t; grep: a Go regexp)`

// Containers is what logs asks of the container runtimes: the container a
// reference names (logs.read("web")). bindings.New gives it the containers
// module's Resolver.
type Containers interface {
	Lookup(L *lua.LState, ref string) (*docker.Container, error)
}

// Module is the logs module, whose references are found through its
// Containers.
type Module struct {
	containers Containers
}

// New returns the logs module, which finds containers through c.
func New(c Containers) *Module { return &Module{containers: c} }

// Loader is the logs module's loader for L.PreloadModule.
func (m *Module) Loader(L *lua.LState) int {
	L.Push(luax.NewModule(L, "logs", doc, []luax.Func{
		{Name: "read", Doc: readDoc, Fn: m.luaRead},
	}))
	return 1
}

// OfContainer is c:logs(opts), with the options at argument n: what the
// docker module's Container is given as its logs.
func OfContainer(L *lua.LState, c *docker.Container, n int) int {
	return read(L, c, n)
}

func (m *Module) luaRead(L *lua.LState) int {
	ref := L.CheckString(1)
	if ref == "" {
		L.ArgError(1, "empty container reference")
	}
	o, stamps := checkOptions(L, 2) // misuse raises before the engine is asked
	c, err := m.containers.Lookup(L, ref)
	if err != nil {
		return luax.Fail(L, err)
	}
	return open(L, c, o, stamps)
}

var optionNames = []string{"tail", "since", "until", "follow", "timestamps", "grep", "stdout", "stderr"}

// read opens the logs of c with the options at argument n and pushes the
// iterator and its close function.
func read(L *lua.LState, c *docker.Container, n int) int {
	o, stamps := checkOptions(L, n)
	return open(L, c, o, stamps)
}

// checkOptions reads the options at argument n; stamps is timestamps=.
func checkOptions(L *lua.LState, n int) (Options, bool) {
	lo := luax.CheckOptions(L, n, optionNames...)
	o := Options{
		Tail:   lo.Int("tail", -1),
		Follow: lo.Bool("follow", false),
		Stdout: lo.Bool("stdout", true),
		Stderr: lo.Bool("stderr", true),
	}
	o.Since, _ = lo.Time("since")
	o.Until, _ = lo.Time("until")
	if pat := lo.String("grep", ""); pat != "" {
		re, err := regexp.Compile(pat)
		if err != nil {
			L.ArgError(n, fmt.Sprintf("option \"grep\": %v", err))
		}
		o.Grep = re
	}
	return o, lo.Bool("timestamps", false)
}

// open asks the engine and pushes the iterator and its close function.
func open(L *lua.LState, c *docker.Container, o Options, stamps bool) int {
	if sc, lf, ok := openScan(c, o); ok {
		return pushScan(L, c, sc, lf, stamps)
	}
	// The engine's reader ends with the statement (or close()).
	ctx := luax.Ctx(L)
	rc, tty, err := openLogs(ctx, c, o)
	if err != nil {
		return luax.Fail(L, err)
	}
	subject := c.Subject()
	s := luax.NewStream(L, 256, func(sink *luax.Sink[*Line]) error {
		defer rc.Close()
		stop := context.AfterFunc(sink.Context(), func() { rc.Close() })
		defer stop()
		lr := NewReader(rc, tty, o.Grep)
		for {
			l, err := lr.Next()
			if err != nil {
				if sink.Context().Err() != nil {
					return sink.Context().Err()
				}
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("%s: logs: %w", subject, err)
			}
			if !sink.Send(l) {
				return sink.Context().Err()
			}
		}
	}, func(L *lua.LState, l *Line) lua.LValue {
		return Table(L, l, stamps)
	})
	return s.Push(L)
}

// pushScan pushes the iterator over a scan of c's log files and its close
// function.
func pushScan(L *lua.LState, c *docker.Container, sc *scan, lf *logFiles, stamps bool) int {
	subject := c.Subject()
	s := luax.NewStream(L, 1024, func(sink *luax.Sink[Line]) error {
		err := sc.read(sink.Context(), lf, func(batch []Line) bool {
			for _, l := range batch {
				if !sink.Send(l) {
					return false
				}
			}
			return true
		})
		if err != nil && sink.Context().Err() == nil {
			return fmt.Errorf("%s: logs: %w", subject, err)
		}
		return sink.Context().Err()
	}, func(L *lua.LState, l Line) lua.LValue {
		return Table(L, &l, stamps)
	})
	return s.Push(L)
}

// The stream names as Lua values, made once (not one string a line).
var stdoutValue, stderrValue lua.LValue = lua.LString("stdout"), lua.LString("stderr")

func streamValue(s string) lua.LValue {
	switch s {
	case "stdout":
		return stdoutValue
	case "stderr":
		return stderrValue
	}
	return lua.LString(s)
}

// Table is the Lua form of a line; with stamps the line starts with its
// time as docker logs -t prints it.
func Table(L *lua.LState, l *Line, stamps bool) lua.LValue {
	t := L.CreateTable(0, 3)
	t.RawSetString("stream", streamValue(l.Stream))
	if !l.Time.IsZero() {
		t.RawSetString("time", luax.Seconds(l.Time))
	}
	line := string(l.Line)
	if stamps && !l.Time.IsZero() {
		line = FormatTimestamp(l.Time) + " " + line
	}
	t.RawSetString("line", lua.LString(line))
	return t
}
