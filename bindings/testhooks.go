//go:build ctrsh_testhooks

package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// testGlobals are extra globals of test builds (-tags ctrsh_testhooks;
// notesthooks.go has none): they let tests reach the boundary that turns
// a Go panic into exit code 70.
var testGlobals = []luax.Func{{
	Name: "_ctrsh_panic",
	Doc:  "_ctrsh_panic(msg) -- test hook: a Go panic inside a builtin",
	Fn: func(L *lua.LState) int {
		panic(L.OptString(1, "test panic"))
	},
}}
