package events_test

import (
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// The events module against Podman's Docker-compatible API. The stream's
// resumption across engine restarts is Docker's (testengine.Restart); what
// applies to Podman is a container's life as events show it.
func TestLuaPodman(t *testing.T) {
	luatest.Run(t, "testdata/lifecycle_test.lua", luatest.WithTarget(testengine.Podman))
}
