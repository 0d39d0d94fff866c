package ns_test

import (
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luatest"
)

func TestLuaNS(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua")
}
