package docker_test

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua")
}

// An engine that is not there: docker calls fail at once with a message
// naming the socket, and the host modules still work.
func TestEngineUnreachable(t *testing.T) {
	for _, host := range []string{"unix://" + t.TempDir() + "/no-engine.sock", "tcp://127.0.0.1:1"} {
		t.Run(strings.SplitN(host, ":", 2)[0], func(t *testing.T) {
			L := luatest.NewState(t, luatest.WithEnv(func(env *luax.Env) { env.DockerHost = host }))
			L.SetGlobal("HOST", lua.LString(host))
			start := time.Now()
			err := L.DoString(`
				local ok, err = docker.ping()
				assert.eq(ok, nil)
				assert.contains(err, HOST)
				local c, err = docker.container("web")
				assert.eq(c, nil)
				assert.contains(err, HOST)
				local list, err = docker.containers()
				assert.eq(list, nil)
				assert.contains(err, HOST)
				local it, err = events.stream{}
				assert.eq(it, nil)
				assert.contains(err, HOST)
				local it, err = logs.read("web")
				assert.eq(it, nil)
				assert.contains(err, HOST)
				-- proc and cgroup do not need the engine
				local me = assert(proc.self())
				assert.truthy(me.pid > 0)
				local cg = assert(cgroup.of(me.pid))
				assert.truthy(cg:memory())
				T.log(err)
			`)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("five failing calls took %v", time.Since(start))
		})
	}
}
