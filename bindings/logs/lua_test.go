package logs_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

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

// timeHelpers adds stamp_add(stamp, ns): the RFC 3339 time stamp (as
// docker logs -t prints it) moved by ns nanoseconds, exactly (Lua's numbers
// cannot hold a time to the nanosecond); and log_parts(path): how many
// files the json-file log at path has (path, path.1, ...).
func timeHelpers(t *testing.T, L *lua.LState) {
	L.SetGlobal("stamp_add", L.NewFunction(func(L *lua.LState) int {
		tm, err := time.Parse(time.RFC3339Nano, L.CheckString(1))
		if err != nil {
			L.ArgError(1, err.Error())
		}
		L.Push(lua.LString(tm.Add(time.Duration(L.CheckInt64(2))).UTC().Format(time.RFC3339Nano)))
		return 1
	}))
	L.SetGlobal("log_parts", L.NewFunction(func(L *lua.LState) int {
		path, n := L.CheckString(1), 1
		for ; ; n++ {
			if _, err := os.Stat(path + "." + strconv.Itoa(n)); err != nil {
				break
			}
		}
		L.Push(lua.LNumber(n))
		return 1
	}))
}

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua", luatest.WithSetup(cliLines), luatest.WithSetup(timeHelpers))
}
