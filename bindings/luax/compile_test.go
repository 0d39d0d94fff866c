package luax_test

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// jumpCases are loops whose body (or a label's statement) starts with a
// jump: gopher-lua v1.1.2's jump pass sends their backward jumps elsewhere
// (luax/compile.go). Each chunk returns what the reference Lua returns
// (checked with Debian's lua5.2, which has goto).
var jumpCases = []struct{ name, src, want string }{
	{"break first in a generic for (issue 11's loop)", `
		local function gen() local i = 0 return function() i = i + 1 if i < 5 then return i end end end
		local n = 0
		for i = 1, 120 do for l in gen() do break end; if i % 50 == 0 then n = n + 1 end end
		return n`, "2"},
	{"break first, loop counted", `
		local function gen() local i = 0 return function() i = i + 1 if i < 5 then return i end end end
		local m = 0
		for i = 1, 10 do for l in gen() do break end m = m + 1 end
		return m`, "10"},
	{"if false first in a generic for (gopher-lua #540)", `
		local s = 0
		for _, v in ipairs({1, 2, 3}) do if false then local x end s = s + v end
		return s`, "6"},
	{"while true with break first", `
		local n = 0
		while true do break end
		for i = 1, 3 do while true do if false then end n = n + 1 break end end
		return n`, "3"},
	{"while with a condition starting with a jump", `
		local i = 0
		while false and x or i < 3 do i = i + 1 end
		return i`, "3"},
	{"while nil never runs", `
		local i = 0
		while nil do i = i + 1 end
		return i`, "0"},
	{"repeat with if false first", `
		local i = 0
		repeat if false then end i = i + 1 until i == 3
		return i`, "3"},
	{"repeat with break first", `
		local i = 0
		repeat break until false
		repeat do break end until false
		return "done"`, "done"},
	{"goto back to a label before if false", `
		local i = 0
		::top:: if false then end
		i = i + 1
		if i < 3 then goto top end
		return i`, "3"},
	{"goto continue at the end of a body", `
		local s = 0
		for _, v in ipairs({1, 2, 3, 4}) do
			if v % 2 == 0 then goto continue end
			s = s + v
			::continue::
		end
		return s`, "4"},
	{"empty generic for body", `
		local n = 0
		for _ in pairs({a = 1, b = 2}) do end
		for _, v in ipairs({5, 6}) do n = n + v end
		return n`, "11"},
	{"in a function, nested", `
		local function f(t)
			local c = 0
			for _, x in ipairs(t) do
				for _ in pairs(x) do break end
				while true do if true then break end end
				c = c + 1
			end
			return c
		end
		return f({{1}, {2}, {}})`, "3"},
}

func runChunk(t *testing.T, load func(L *lua.LState, src string) (*lua.LFunction, error), src string) (string, error) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	L.SetContext(ctx)
	fn, err := load(L, src)
	if err != nil {
		return "", err
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	return L.Get(-1).String(), nil
}

func TestCompileLoopsStartingWithAJump(t *testing.T) {
	for _, c := range jumpCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := runChunk(t, luax.LoadString, c.src)
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestStockCompilerStillMiscompiles says when the workaround can go: once
// gopher-lua compiles these loops right, Compile can be parse + lua.Compile.
func TestStockCompilerStillMiscompiles(t *testing.T) {
	wrong := 0
	for _, c := range jumpCases {
		got, err := runChunk(t, func(L *lua.LState, src string) (*lua.LFunction, error) {
			return L.LoadString(src)
		}, c.src)
		if err != nil || got != c.want {
			wrong++
		}
	}
	if wrong == 0 {
		t.Fatal("gopher-lua now compiles every loop here right: remove the rewrite in luax/compile.go (Compile = parse.Parse + lua.Compile)")
	}
	t.Logf("stock gopher-lua gets %d of %d cases wrong", wrong, len(jumpCases))
}

// TestCompileKeepsLinesAndErrors: the rewrite adds no line and keeps
// syntax errors as gopher-lua reports them.
func TestCompileKeepsLinesAndErrors(t *testing.T) {
	_, err := runChunk(t, luax.LoadString, "for _ in pairs({1}) do break end\nerror('here')")
	if err == nil || !strings.Contains(err.Error(), "<string>:2: here") {
		t.Errorf("error %v, want it at <string>:2", err)
	}
	_, err = luax.LoadString(lua.NewState(), "for x in do end")
	apiErr, ok := err.(*lua.ApiError)
	if !ok || apiErr.Type != lua.ApiErrorSyntax {
		t.Errorf("syntax error: %#v, want an ApiErrorSyntax", err)
	}
}
