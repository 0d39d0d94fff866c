package logs_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ctrsh/ctrsh/fixtures/testengine"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
)

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
	luatest.Run(t, "testdata/*_test.lua", luatest.WithSetup(cliLines))
}
