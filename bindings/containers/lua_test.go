package containers_test

import (
	"os"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testcri"
)

// The Lua tests run against both fixtures: the Docker test engine
// (engine.*) and the private containerd with its CRI plugin (node.*).
func TestLua(t *testing.T) {
	t.Setenv("CTRSH_AUDIT_FILE", t.TempDir()+"/audit.jsonl")
	os.Unsetenv("CONTAINER_RUNTIME_ENDPOINT")
	luatest.Run(t, "testdata/*_test.lua",
		luatest.WithEnv(func(env *luax.Env) { env.CRIEndpoint = testcri.Addr() }),
		luatest.WithSetup(testcri.Lua))
}
