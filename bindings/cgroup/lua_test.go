package cgroup_test

import (
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luatest"
)

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua")
}
