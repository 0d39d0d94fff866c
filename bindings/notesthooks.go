//go:build !ctrsh_testhooks

package bindings

import "github.com/ctrsh/ctrsh/bindings/luax"

// testGlobals are extra globals of test builds (-tags ctrsh_testhooks,
// testhooks.go): none in this one.
var testGlobals []luax.Func
