package cri_test

import (
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testcri"
)

// The Lua tests run against the private containerd of fixtures/cri.sh
// (the global node creates pods through the CRI).
func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua",
		luatest.WithEnv(func(env *luax.Env) { env.CRIEndpoint = testcri.Addr() }),
		luatest.WithSetup(testcri.Lua))
}
