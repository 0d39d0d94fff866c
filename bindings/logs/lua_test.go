package logs_test

import (
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"os/exec"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/docker"
	"github.com/ctrsh/ctrsh/bindings/events"
	"github.com/ctrsh/ctrsh/bindings/logs"
	"github.com/ctrsh/ctrsh/bindings/luatest"
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

// cliLines adds cli(args, stream [, filter]): the lines the docker CLI,
// pointed at the test engine, writes on stream ("stdout" or "stderr"),
// through an optional shell filter (" | grep x").
func cliLines(t *testing.T, L *lua.LState) {
	L.SetGlobal("cli", L.NewFunction(func(L *lua.LState) int {
		args, stream, filter := L.CheckString(1), L.CheckString(2), L.OptString(3, "")
		redirect := " 2>/dev/null"
		if stream == "stderr" {
			redirect = " 2>&1 >/dev/null"
		}
		host := testengine.Host(t)
		out, err := exec.Command("sh", "-c", "docker -H "+host+" "+args+redirect+filter).Output()
		if err != nil && filter == "" {
			L.RaiseError("docker %s: %v", args, err)
		}
		lines := strings.Split(string(out), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		tbl := L.CreateTable(len(lines), 0)
		for _, l := range lines {
			tbl.Append(lua.LString(l))
		}
		L.Push(tbl)
		return 1
	}))
}

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua", luatest.WithSetup(modules), luatest.WithSetup(cliLines))
}
