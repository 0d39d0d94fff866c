package main

import (
	"fmt"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// runShell runs the interactive shell.
func runShell(env *luax.Env, o *options) int {
	fmt.Fprintln(env.Stderr, "ctrsh: the interactive shell is not built yet")
	return luax.ExitInternal
}
