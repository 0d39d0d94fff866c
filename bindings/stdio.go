package bindings

import (
	"io"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Lua's io library writes io.stdout and io.stderr straight to the process's
// file descriptors. ctrsh's own standard output and error are the Env's
// writers — escaped on a terminal, captured by tests, after the rows emit()
// holds — so io.stdout, io.stderr and io.write write there instead, through
// a stream of ctrsh's own. io.open, io.lines and the rest stay Lua's.

// stream is io.stdout or io.stderr of a state.
type stream struct {
	name string
	w    func() io.Writer
}

const streamTypeName = "ctrsh.Stream"

var streamType = &luax.Type{
	Name: streamTypeName,
	Doc:  "Stream: ctrsh's standard output or error (io.stdout, io.stderr): f:write(...), f:flush()",
	String: func(v any) string {
		return "<file " + v.(*stream).name + ">"
	},
	Methods: []luax.Func{
		{Name: "write", Doc: "f:write(...) --> f: write strings and numbers", Fn: streamWrite},
		{Name: "flush", Doc: "f:flush() --> f", Fn: streamSelf},
		{Name: "setvbuf", Doc: "f:setvbuf(mode [, size]) --> true (ctrsh's output is written as it comes)", Fn: streamTrue},
		{Name: "close", Doc: "f:close() --> nil, err (a standard file stays open)", Fn: streamClose},
	},
}

func checkStream(L *lua.LState, n int) *stream { return luax.CheckType(L, n, streamTypeName).(*stream) }

// write lua f:write(...) writes its arguments, after emit()'s held rows.
func streamWrite(L *lua.LState) int {
	s := checkStream(L, 1)
	writeArgs(L, s.w(), 2)
	L.Push(L.Get(1))
	return 1
}

func writeArgs(L *lua.LState, w io.Writer, from int) {
	luax.Flush(L)
	for i := from; i <= L.GetTop(); i++ {
		L.CheckTypes(i, lua.LTString, lua.LTNumber)
		io.WriteString(w, lua.LVAsString(L.Get(i)))
	}
}

func streamSelf(L *lua.LState) int {
	checkStream(L, 1)
	L.Push(L.Get(1))
	return 1
}

func streamTrue(L *lua.LState) int {
	checkStream(L, 1)
	L.Push(lua.LTrue)
	return 1
}

func streamClose(L *lua.LState) int {
	s := checkStream(L, 1)
	L.Push(lua.LNil)
	L.Push(lua.LString("cannot close " + s.name))
	return 2
}

// openStdio replaces io.stdout, io.stderr and io.write (with io.output,
// io.flush and io.close, which share the default output, and io.type) in
// L's io table.
func openStdio(L *lua.LState, env *luax.Env) {
	ioT, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	o := &stdio{
		stdout:     streamType.New(L, &stream{name: "stdout", w: func() io.Writer { return env.Stdout }}),
		stderr:     streamType.New(L, &stream{name: "stderr", w: func() io.Writer { return env.Stderr }}),
		origOutput: ioT.RawGetString("output"),
		origClose:  ioT.RawGetString("close"),
		origType:   ioT.RawGetString("type"),
	}
	// The default output is ctrsh's stdout until io.output(file) changes it.
	o.out = o.stdout
	ioT.RawSetString("stdout", o.stdout)
	ioT.RawSetString("stderr", o.stderr)
	luax.SetFuncs(L, ioT, []luax.Func{
		{Name: "write", Doc: "io.write(...) -- write to the default output (ctrsh's stdout unless io.output changed it)", Fn: o.write},
		{Name: "output", Doc: "io.output([file | name]) --> the default output", Fn: o.output},
		{Name: "flush", Doc: "io.flush() -- flush the default output", Fn: o.flush},
		{Name: "type", Doc: `io.type(v) --> "file" | "closed file" | nil`, Fn: o.typ},
		{Name: "close", Doc: "io.close([file]) -- close file, or the default output", Fn: o.close},
	})
}

// stdio is the io library's state in one Lua state: ctrsh's two streams,
// the default output, and the library's own functions for real files.
type stdio struct {
	stdout, stderr                  *lua.LUserData
	out                             lua.LValue // the default output
	origOutput, origClose, origType lua.LValue
}

func (o *stdio) isStream(v lua.LValue) bool { return v == o.stdout || v == o.stderr }

// call calls fn with args and returns how many values it returned.
func (o *stdio) call(L *lua.LState, fn lua.LValue, args ...lua.LValue) int {
	top := L.GetTop()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), lua.MultRet)
	return L.GetTop() - top
}

// method calls the default output's method name with the arguments from
// index from on.
func (o *stdio) method(L *lua.LState, name string, from int) int {
	args := []lua.LValue{o.out}
	for i := from; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	return o.call(L, L.GetField(o.out, name), args...)
}

func (o *stdio) write(L *lua.LState) int {
	if s, ok := o.out.(*lua.LUserData); ok && o.isStream(s) {
		writeArgs(L, s.Value.(*stream).w(), 1)
		L.Push(o.out)
		return 1
	}
	return o.method(L, "write", 1)
}

func (o *stdio) output(L *lua.LState) int {
	switch v := L.Get(1); {
	case L.GetTop() == 0:
	case o.isStream(v):
		o.out = v
	default:
		o.call(L, o.origOutput, v)
		o.out = L.Get(-1)
	}
	L.Push(o.out)
	return 1
}

func (o *stdio) flush(L *lua.LState) int {
	if o.isStream(o.out) {
		L.Push(o.out)
		return 1
	}
	return o.method(L, "flush", 1)
}

func (o *stdio) typ(L *lua.LState) int {
	if o.isStream(L.Get(1)) {
		L.Push(lua.LString("file"))
		return 1
	}
	return o.call(L, o.origType, L.Get(1))
}

func (o *stdio) close(L *lua.LState) int {
	f := L.Get(1)
	if L.GetTop() == 0 {
		f = o.out
	}
	if o.isStream(f) {
		L.Push(lua.LNil)
		L.Push(lua.LString("cannot close " + f.(*lua.LUserData).Value.(*stream).name))
		return 2
	}
	return o.call(L, o.origClose, f)
}
