package main

import (
	"fmt"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
)

// printValues is the shell's printer of a statement's values: an array of
// records (c:top(), docker.stats{}, proc.list(), docker.containers()) as a
// table fitted to the terminal, sizes and durations for people, a row
// count at the end; any other value as pp prints it. pp(v) still prints
// the tree and json.encode(v) the JSON.
func printValues(L *lua.LState, env *luax.Env, values []lua.LValue) {
	tables := make([]*tabular.Table, len(values))
	found := false
	for i, v := range values {
		if t, ok := bindings.Tabulate(L, v); ok {
			tables[i], found = t, true
		}
	}
	if !found {
		parts := make([]string, len(values))
		for i, v := range values {
			parts[i] = luax.Format(L, v, luax.FormatOptions{})
		}
		fmt.Fprintln(env.Stdout, strings.Join(parts, "\t"))
		return
	}
	for i, v := range values {
		if tables[i] == nil {
			fmt.Fprintln(env.Stdout, luax.Format(L, v, luax.FormatOptions{}))
			continue
		}
		writeTable(env, tables[i], "rows")
	}
}

// writeTable writes t for people: fitted to the terminal's width, bold
// header when colour is on (then past the escaping writer: the engine has
// escaped every cell), nothing but text otherwise.
func writeTable(env *luax.Env, t *tabular.Table, noun string) {
	w := env.Stdout
	o := tabular.Options{Human: true, Noun: noun, Width: termWidth(luax.Raw(env.Stdout)), Color: env.Color}
	if o.Color {
		w = env.Progress.Guard(luax.Raw(env.Stdout))
	}
	io.WriteString(w, t.String(o))
}

// termWidth is the width of the terminal w writes to, 0 when w is not one.
func termWidth(w io.Writer) int {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
