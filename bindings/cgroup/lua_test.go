package cgroup_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/cgroup"
	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/bindings/proc"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

// hostModules loads proc, ns and cgroup into L (whether or not bindings
// preloads them already), and adds fixture(name): it unpacks the fixture
// tree name and points the three modules at it (proc.SetRoot), returning
// the tree's root.
func hostModules(t *testing.T, L *lua.LState) {
	for name, loader := range map[string]lua.LGFunction{"proc": proc.Loader, "ns": ns.Loader, "cgroup": cgroup.Loader} {
		L.PreloadModule(name, loader)
		if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString(name)); err != nil {
			t.Fatalf("require %s: %v", name, err)
		}
		L.SetGlobal(name, L.Get(-1))
		L.Pop(1)
	}
	L.SetGlobal("fixture", L.NewFunction(func(L *lua.LState) int {
		root := trees.Unpack(t, L.CheckString(1))
		proc.SetRoot(L, root)
		L.Push(lua.LString(root))
		return 1
	}))
}

func TestLua(t *testing.T) {
	luatest.Run(t, "testdata/*_test.lua", luatest.WithSetup(hostModules))
}
