package docker_test

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/logs"
	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/bindings/proc"
)

// modules loads the engine and host modules into L, whether or not
// bindings preloads them already.
func modules(t *testing.T, L *lua.LState) {
	for _, m := range []struct {
		name   string
		loader lua.LGFunction
	}{{"docker", docker.Loader}, {"events", events.Loader}, {"logs", logs.Loader}, {"proc", proc.Loader}, {"cgroup", cgroup.Loader}, {"ns", ns.Loader}} {
		L.PreloadModule(m.name, m.loader)
		if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(m.name)); err != nil {
			t.Fatalf("require %s: %v", m.name, err)
		}
		L.SetGlobal(m.name, L.Get(-1))
		L.Pop(1)
	}
}

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua", luatest.WithSetup(modules))
}

// An engine that is not there: docker calls fail at once with a message
// naming the socket, and the host modules still work.
func TestEngineUnreachable(t *testing.T) {
	for _, host := range []string{"unix://" + t.TempDir() + "/no-engine.sock", "tcp://127.0.0.1:1"} {
		t.Run(strings.SplitN(host, ":", 2)[0], func(t *testing.T) {
			L := luatest.NewState(t, luatest.WithSetup(modules), luatest.WithEnv(func(env *luax.Env) { env.DockerHost = host }))
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
