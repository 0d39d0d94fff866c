package main

import (
	"io"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// withProgress gives env the progress line when standard error is a
// terminal: drawn there, and erased before anything is written to standard
// output or error while they are terminals (so it is never in the data,
// and never mixed into a line). Off a terminal there is none.
func withProgress(env *luax.Env, stdout, stderr io.Writer, raw bool) {
	if !luax.IsTerminal(stderr) {
		return
	}
	p := luax.NewProgress(stderr, func() int { return termWidth(stderr) })
	env.Progress = p
	env.Stderr = escaped(p.Guard(stderr), raw)
	if luax.IsTerminal(stdout) {
		env.Stdout = escaped(p.Guard(stdout), raw)
	}
}

// escaped is w behind a TermWriter unless raw.
func escaped(w io.Writer, raw bool) io.Writer {
	if raw {
		return w
	}
	return luax.NewTermWriter(w)
}
