package bindings

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// The base library's loaders, compiling through luax.Load instead of
// gopher-lua's own L.Load (whose jump pass miscompiles some loops: see
// luax/compile.go). Messages and results are gopher-lua's.

func openLoaders(L *lua.LState) {
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	luax.SetFuncs(L, g, []luax.Func{
		{Name: "load", Doc: "load(chunk [, chunkname [, mode [, env]]]) --> function | nil, err: chunk is a string or a function returning pieces (strings: Lua 5.2)", Fn: baseLoad},
		{Name: "loadstring", Doc: "loadstring(s [, chunkname]) --> function | nil, err", Fn: baseLoadString},
		{Name: "loadfile", Doc: "loadfile([path]) --> function | nil, err  (no path: standard input)", Fn: baseLoadFile},
		{Name: "dofile", Doc: "dofile(path) --> the values the file's chunk returns", Fn: baseDoFile},
	})
}

// loaded pushes fn, or nil and the error, as loadstring does.
func loaded(L *lua.LState, fn *lua.LFunction, err error) int {
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// load lua load(chunk [, chunkname [, mode [, env]]]) takes the chunk as a
// function returning pieces (Lua 5.1) or as a string, with a mode and an
// environment for it, as Lua 5.2 does.
func baseLoad(L *lua.LState) int {
	src, ok := L.Get(1).(lua.LString)
	if !ok {
		return loadPieces(L)
	}
	name := L.OptString(2, "<string>")
	if mode := L.OptString(3, "bt"); !strings.Contains(mode, "t") {
		L.Push(lua.LNil)
		L.Push(lua.LString("attempt to load a text chunk (mode is '" + mode + "')"))
		return 2
	}
	fn, err := luax.Load(L, strings.NewReader(string(src)), name)
	if err == nil {
		if env, ok := L.Get(4).(*lua.LTable); ok {
			fn.Env = env
		}
	}
	return loaded(L, fn, err)
}

// loadPieces is load(fn [, chunkname]): fn is called until it returns nil
// or an empty string, and the pieces are the chunk.
func loadPieces(L *lua.LState) int {
	reader := L.CheckFunction(1)
	name := L.OptString(2, "?")
	var b strings.Builder
	for {
		L.Push(reader)
		L.Call(0, 1)
		piece := L.Get(-1)
		L.Pop(1)
		if piece == lua.LNil {
			break
		}
		if !lua.LVCanConvToString(piece) {
			L.Push(lua.LNil)
			L.Push(lua.LString("reader function must return a string"))
			return 2
		}
		if piece.String() == "" {
			break
		}
		b.WriteString(piece.String())
	}
	fn, err := luax.Load(L, strings.NewReader(b.String()), name)
	return loaded(L, fn, err)
}

func baseLoadString(L *lua.LState) int {
	fn, err := luax.Load(L, strings.NewReader(L.CheckString(1)), L.OptString(2, "<string>"))
	return loaded(L, fn, err)
}

func baseLoadFile(L *lua.LState) int {
	if L.GetTop() < 1 {
		fn, err := luax.Load(L, luax.GetEnv(L).Stdin, "<stdin>")
		return loaded(L, fn, err)
	}
	path := L.CheckString(1)
	fn, err := luax.LoadFile(L, path)
	if err != nil {
		if apiErr, ok := err.(*lua.ApiError); ok && apiErr.Type == lua.ApiErrorFile {
			L.Push(lua.LNil)
			L.Push(lua.LString("can not open file: " + path))
			return 2
		}
	}
	return loaded(L, fn, err)
}

// dofile lua dofile(path) runs the file's chunk and returns its values; an
// error in it (or in loading it) is raised.
func baseDoFile(L *lua.LState) int {
	path := L.CheckString(1)
	top := L.GetTop()
	fn, err := luax.LoadFile(L, path)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}
