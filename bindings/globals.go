package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/top"
)

// openViews sets the globals that show containers to people: top().
func openViews(L *lua.LState) {
	luax.SetFuncs(L, L.Get(lua.GlobalsIndex).(*lua.LTable), []luax.Func{top.LuaFunc})
}
