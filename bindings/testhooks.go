//go:build ctrsh_testhooks

package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Built only with -tags ctrsh_testhooks: lets tests reach the boundary that
// turns a Go panic into exit code 70.
func init() {
	testGlobals = append(testGlobals, luax.Func{
		Name: "_ctrsh_panic",
		Doc:  "_ctrsh_panic(msg) -- test hook: a Go panic inside a builtin",
		Fn: func(L *lua.LState) int {
			panic(L.OptString(1, "test panic"))
		},
	})
}
