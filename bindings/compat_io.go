package bindings

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// Reading files as Lua 5.2-5.4 spell it: read formats without the star
// ("a", "l", "L", "n"), "L" (the line with its newline, which gopher-lua
// lacks), and formats given to io.lines and file:lines. With the 5.1
// spellings gopher-lua's own functions do the reading.
//
// In the shell, the standard input is the terminal: luax.Env.ReadTerminal
// is set, and io.read, io.lines and io.stdin read through it (a line as
// typed, the line editor paused, Ctrl-C stopping the wait) instead of
// through gopher-lua's own buffer of os.Stdin.

type ioCompat struct {
	env       *luax.Env
	stdin     *lua.LUserData // io.stdin
	input     *lua.LFunction // io.input
	open      *lua.LFunction // io.open
	fileRead  *lua.LFunction // gopher-lua's file:read
	fileLines *lua.LFunction // gopher-lua's file:lines
	ioLines   *lua.LFunction // gopher-lua's io.lines
	term      *termInput
}

func openIOCompat(L *lua.LState) {
	iot, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	mt, ok := L.GetTypeMetatable("FILE*").(*lua.LTable)
	if !ok {
		return
	}
	c := &ioCompat{env: luax.GetEnv(L)}
	c.stdin, _ = iot.RawGetString("stdin").(*lua.LUserData)
	c.input, _ = iot.RawGetString("input").(*lua.LFunction)
	c.open, _ = iot.RawGetString("open").(*lua.LFunction)
	c.ioLines, _ = iot.RawGetString("lines").(*lua.LFunction)
	c.fileRead, _ = mt.RawGetString("read").(*lua.LFunction)
	c.fileLines, _ = mt.RawGetString("lines").(*lua.LFunction)
	if c.stdin == nil || c.input == nil || c.open == nil || c.ioLines == nil || c.fileRead == nil || c.fileLines == nil {
		return
	}
	c.term = &termInput{env: c.env}
	c.term.r = bufio.NewReader(c.term)
	luax.SetFuncs(L, iot, []luax.Func{
		{Name: "read", Doc: `io.read(...) --> what io.input():read(...) reads; formats "l" (a line, the default), "L" (with its newline), "a" (all), "n" (a number), or a byte count, with or without Lua 5.1's "*"`, Fn: c.ioRead},
		{Name: "lines", Doc: `io.lines([filename, ...]) --> iterator of lines (or of the formats given, as in Lua 5.2) of the file, or of the default input`, Fn: c.ioLinesFn},
	})
	luax.SetFuncs(L, mt, []luax.Func{
		{Name: "read", Doc: `file:read(...) --> values read in the formats given: "l" (a line, the default), "L" (with its newline), "a" (all), "n" (a number), or a byte count, with or without Lua 5.1's "*"`, Fn: c.read},
		{Name: "lines", Doc: `file:lines(...) --> iterator of lines (or of the formats given, as in Lua 5.2)`, Fn: c.lines},
	})
}

// format is one read format, normalized: 'l', 'L', 'a', 'n', or 0 for a
// byte count.
type format struct {
	kind  byte
	count int
}

// formats reads the formats at arguments first.. (default "l").
func formats(L *lua.LState, first int) []format {
	top := L.GetTop()
	if top < first {
		return []format{{kind: 'l'}}
	}
	out := make([]format, 0, top-first+1)
	for i := first; i <= top; i++ {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			out = append(out, format{count: int(v)})
		case lua.LString:
			f := strings.TrimPrefix(string(v), "*")
			if f == "" || !strings.ContainsRune("lLan", rune(f[0])) {
				L.ArgError(i, "invalid format")
			}
			out = append(out, format{kind: f[0]})
		default:
			L.ArgError(i, "invalid format")
		}
	}
	return out
}

// stock returns the format as gopher-lua's read takes it, ok false for "L".
func (f format) stock() (lua.LValue, bool) {
	switch f.kind {
	case 0:
		return lua.LNumber(f.count), true
	case 'L':
		return nil, false
	}
	return lua.LString("*" + string(f.kind)), true
}

// io.read lua io.read(...) reads the default input.
func (c *ioCompat) ioRead(L *lua.LState) int {
	L.Push(c.input)
	L.Call(0, 1)
	file := L.Get(-1)
	L.Pop(1)
	return c.readFile(L, file, formats(L, 1))
}

// file:read lua file:read(...)
func (c *ioCompat) read(L *lua.LState) int {
	file := L.CheckUserData(1)
	return c.readFile(L, file, formats(L, 2))
}

// readFile pushes what file yields for fs and returns how many values.
func (c *ioCompat) readFile(L *lua.LState, file lua.LValue, fs []format) int {
	if file == c.stdin && c.env.ReadTerminal != nil {
		return c.term.read(L, fs)
	}
	stockOnly := true
	for _, f := range fs {
		if _, ok := f.stock(); !ok {
			stockOnly = false
		}
	}
	if stockOnly {
		top := L.GetTop()
		L.Push(c.fileRead)
		L.Push(file)
		for _, f := range fs {
			v, _ := f.stock()
			L.Push(v)
		}
		L.Call(len(fs)+1, lua.MultRet)
		return L.GetTop() - top
	}
	// One format at a time, stopping at the first that fails, as Lua does.
	n := 0
	for _, f := range fs {
		var v lua.LValue
		if sv, ok := f.stock(); ok {
			L.Push(c.fileRead)
			L.Push(file)
			L.Push(sv)
			L.Call(2, 2)
			if L.Get(-2) == lua.LNil && L.Get(-1) != lua.LNil {
				return n + 2 // nil, message: an error
			}
			L.Pop(1)
			v = L.Get(-1)
			L.Pop(1)
		} else {
			v = c.readLineKeep(L, file)
		}
		L.Push(v)
		n++
		if v == lua.LNil {
			break
		}
	}
	return n
}

// readLineKeep is format "L" on a gopher-lua file: its line, newline
// included, read byte by byte through gopher-lua's read (its buffer is
// the file's); nil at the end of the file.
func (c *ioCompat) readLineKeep(L *lua.LState, file lua.LValue) lua.LValue {
	var b strings.Builder
	for {
		L.Push(c.fileRead)
		L.Push(file)
		L.Push(lua.LNumber(1))
		L.Call(2, 2)
		if L.Get(-2) == lua.LNil && L.Get(-1) != lua.LNil {
			L.RaiseError("%s", L.Get(-1).String())
		}
		L.Pop(1)
		s, ok := L.Get(-1).(lua.LString)
		L.Pop(1)
		if !ok {
			break
		}
		b.WriteString(string(s))
		if s == "\n" {
			break
		}
	}
	if b.Len() == 0 {
		return lua.LNil
	}
	return lua.LString(b.String())
}

// io.lines lua io.lines([filename, ...]) iterates over a file (closed at
// its end) or the default input, in the formats given (Lua 5.2).
func (c *ioCompat) ioLinesFn(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.Push(c.input)
		L.Call(0, 1)
		file := L.Get(-1)
		L.Pop(1)
		if file == c.stdin && c.env.ReadTerminal != nil {
			L.Push(c.iterator(L, file, []format{{kind: 'l'}}, false))
			return 1
		}
		return c.stockLines(L, c.ioLines)
	}
	name := L.CheckString(1)
	if L.GetTop() == 1 {
		return c.stockLines(L, c.ioLines)
	}
	fs := formats(L, 2)
	L.Push(c.open)
	L.Push(lua.LString(name))
	L.Call(1, 2)
	file, ok := L.Get(-2).(*lua.LUserData)
	if !ok {
		L.RaiseError("%s", L.Get(-1).String())
	}
	L.Push(c.iterator(L, file, fs, true))
	return 1
}

// file:lines lua file:lines(...) iterates over the file in the formats
// given (Lua 5.2).
func (c *ioCompat) lines(L *lua.LState) int {
	file := L.CheckUserData(1)
	if L.GetTop() == 1 && !(file == c.stdin && c.env.ReadTerminal != nil) {
		return c.stockLines(L, c.fileLines)
	}
	L.Push(c.iterator(L, file, formats(L, 2), false))
	return 1
}

func (c *ioCompat) stockLines(L *lua.LState, fn *lua.LFunction) int {
	top := L.GetTop()
	L.Push(fn)
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, lua.MultRet)
	return L.GetTop() - top
}

// iterator reads fs from file at each call; with close, it closes the
// file at its end.
func (c *ioCompat) iterator(L *lua.LState, file lua.LValue, fs []format, close bool) *lua.LFunction {
	done := false
	return L.NewFunction(func(L *lua.LState) int {
		if done {
			L.Push(lua.LNil)
			return 1
		}
		top := L.GetTop()
		n := c.readFile(L, file, fs)
		if n == 0 || L.Get(top+1) == lua.LNil {
			if n > 1 && L.Get(top+2) != lua.LNil {
				L.RaiseError("%s", L.Get(top+2).String()) // nil, message
			}
			done = true
			if close {
				L.Push(L.GetField(file, "close"))
				L.Push(file)
				L.Call(1, 0)
			}
			L.SetTop(top)
			L.Push(lua.LNil)
			return 1
		}
		return n
	})
}

// termInput is the standard input of a shell statement: the terminal, read
// through Env.ReadTerminal under the statement's context, with a buffer of
// its own (what a statement leaves unread, the next one reads).
type termInput struct {
	env *luax.Env
	ctx context.Context
	r   *bufio.Reader
}

func (t *termInput) Read(p []byte) (int, error) {
	return t.env.ReadTerminal(t.ctx, p)
}

// read pushes the values of fs read from the terminal and returns how
// many: nil for the format that found the end (Ctrl-D), or nil and a
// message on an error. Ctrl-C raises, to stop the statement.
func (t *termInput) read(L *lua.LState, fs []format) int {
	t.ctx = luax.Ctx(L)
	defer func() { t.ctx = nil }()
	luax.Flush(L) // rows that emit holds appear before the wait
	n := 0
	for _, f := range fs {
		v, err := readFormat(t.r, f)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				luax.CheckCancel(L)
			}
			L.Push(lua.LNil)
			L.Push(lua.LString("stdin: " + err.Error()))
			return n + 2
		}
		L.Push(v)
		n++
		if v == lua.LNil {
			break
		}
	}
	return n
}

// readFormat reads one value in format f: nil at the end of the input
// (except for "a", which gives "" there).
func readFormat(r *bufio.Reader, f format) (lua.LValue, error) {
	switch f.kind {
	case 0:
		if f.count <= 0 {
			if _, err := r.Peek(1); err != nil {
				return eofNil(err)
			}
			return lua.LString(""), nil
		}
		var b strings.Builder
		_, err := io.CopyN(&b, r, int64(f.count))
		if b.Len() == 0 && err != nil {
			return eofNil(err)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return lua.LString(b.String()), nil
	case 'l', 'L':
		line, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return eofNil(err)
		}
		if f.kind == 'l' {
			line = strings.TrimSuffix(line, "\n")
		}
		return lua.LString(line), nil
	case 'a':
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return lua.LString(b), nil
	case 'n':
		return readNumber(r)
	}
	return nil, fmt.Errorf("invalid format %q", f.kind)
}

func eofNil(err error) (lua.LValue, error) {
	if err == io.EOF {
		return lua.LNil, nil
	}
	return nil, err
}

// readNumber reads a numeral as Lua 5.3's "n" does: blanks, a sign, a
// decimal or 0x hexadecimal number with its fraction and exponent, and no
// more; nil when what is there is not a number.
func readNumber(r *bufio.Reader) (lua.LValue, error) {
	peek := func() byte {
		b, err := r.Peek(1)
		if err != nil {
			return 0
		}
		return b[0]
	}
	for c := peek(); c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; c = peek() {
		r.ReadByte()
	}
	var b strings.Builder
	take := func(set string) bool {
		c := peek()
		if c != 0 && strings.IndexByte(set, c) >= 0 && b.Len() < 200 {
			r.ReadByte()
			b.WriteByte(c)
			return true
		}
		return false
	}
	take("+-")
	digits, exp := "0123456789", "eE"
	if take("0") && take("xX") {
		digits, exp = "0123456789abcdefABCDEF", "pP"
	}
	for take(digits) {
	}
	if take(".") {
		for take(digits) {
		}
	}
	if take(exp) {
		take("+-")
		for take("0123456789") {
		}
	}
	s := b.String()
	if s == "" {
		if _, err := r.Peek(1); err != nil {
			return eofNil(err)
		}
		return lua.LNil, nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return lua.LNumber(v), nil
	}
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return lua.LNumber(v), nil
	}
	return lua.LNil, nil
}
