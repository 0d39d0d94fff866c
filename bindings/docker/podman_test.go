package docker_test

import (
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// The docker module against Podman's Docker-compatible API: the same Lua
// tests as against Docker, on the private Podman service (podman.sh).
func TestLuaPodman(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua", luatest.WithTarget(testengine.Podman))
}
