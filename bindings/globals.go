package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/top"
)

// openViews sets the globals that show things to people as they happen:
// top() and progress().
func openViews(L *lua.LState) {
	luax.SetFuncs(L, L.Get(lua.GlobalsIndex).(*lua.LTable), []luax.Func{
		top.LuaFunc,
		{Name: "progress", Doc: `progress(done, total [, what]) -- on a terminal, one line on stderr saying how far a job over many containers has come (shown after a second, erased when done >= total); nothing elsewhere`, Fn: baseProgress},
	})
}

// progress lua progress(done, total [, what]) updates the progress line.
func baseProgress(L *lua.LState) int {
	done, total := luax.CheckInteger(L, 1), luax.CheckInteger(L, 2)
	what := L.OptString(3, "")
	if what == "" {
		what = luax.GetEnv(L).Playbook
	}
	luax.GetEnv(L).Progress.Update(what, done, total)
	return 0
}
