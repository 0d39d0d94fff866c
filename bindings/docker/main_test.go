package docker_test

import (
	"os"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
)

// TestMain lets this test binary serve as the helper that c:run re-executes
// inside a container: there it runs the chunk, not the tests.
func TestMain(m *testing.M) {
	if ns.RunChild(func() *lua.LState {
		return bindings.New(&luax.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin})
	}) {
		os.Exit(0)
	}
	os.Exit(m.Run())
}
