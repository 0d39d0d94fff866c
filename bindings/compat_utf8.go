package bindings

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// The utf8 library of Lua 5.3/5.4, after lutf8lib.c: byte positions are
// 1-based and may be negative (from the end); strict decoding rejects
// surrogates and code points above U+10FFFF unless lax is true.

const (
	maxUnicode = 0x10FFFF
	maxUTF     = 0x7FFFFFFF
	// utf8CharPattern matches exactly one UTF-8 byte sequence.
	utf8CharPattern = "[\x00-\x7F\xC2-\xFD][\x80-\xBF]*"
)

func openUTF8(L *lua.LState) *lua.LTable {
	m := luax.NewModule(L, "utf8", "utf8: UTF-8 strings (Lua 5.3's library; positions are bytes)", []luax.Func{
		{Name: "char", Doc: "utf8.char(...) --> the string of the code points given", Fn: utf8Char},
		{Name: "codepoint", Doc: "utf8.codepoint(s [, i [, j [, lax]]]) --> the code points of the characters that start between bytes i and j", Fn: utf8Codepoint},
		{Name: "len", Doc: "utf8.len(s [, i [, j [, lax]]]) --> the number of characters starting between bytes i and j | nil, position of the first invalid byte", Fn: utf8Len},
		{Name: "codes", Doc: "utf8.codes(s [, lax]) --> iterator of position, code point (for p, c in utf8.codes(s))", Fn: utf8Codes},
		{Name: "offset", Doc: "utf8.offset(s, n [, i]) --> the byte position where the n-th character from byte i starts", Fn: utf8Offset},
	})
	m.RawSetString("charpattern", lua.LString(utf8CharPattern))
	return m
}

// utf8Encode appends the UTF-8 form of x (up to 0x7FFFFFFF, surrogates
// included, as Lua writes them).
func utf8Encode(b []byte, x uint32) []byte {
	if x < 0x80 {
		return append(b, byte(x))
	}
	var buf [6]byte
	n := 5
	mfb := uint32(0x3f) // the most that fits in the first byte
	for {
		buf[n] = byte(0x80 | (x & 0x3f))
		n--
		x >>= 6
		mfb >>= 1
		if x <= mfb {
			break
		}
	}
	buf[n] = byte((^mfb << 1) | x)
	return append(b, buf[n:]...)
}

// utf8Decode decodes the sequence at s[i:]: its code point and the index
// after it, or ok false when it is not valid.
func utf8Decode(s string, i int, strict bool) (code uint32, next int, ok bool) {
	limits := [...]uint32{^uint32(0), 0x80, 0x800, 0x10000, 0x200000, 0x4000000}
	c := uint32(s[i])
	if c < 0x80 {
		code = c
	} else {
		count := 0
		for ; c&0x40 != 0; c <<= 1 {
			count++
			if i+count >= len(s) {
				return 0, 0, false
			}
			cc := uint32(s[i+count])
			if cc&0xC0 != 0x80 {
				return 0, 0, false
			}
			code = code<<6 | cc&0x3F
		}
		if count == 0 || count > 5 {
			return 0, 0, false
		}
		code |= (c & 0x7F) << (count * 5)
		if code > maxUTF || code < limits[count] {
			return 0, 0, false
		}
		i += count
	}
	if strict && (code > maxUnicode || (code >= 0xD800 && code <= 0xDFFF)) {
		return 0, 0, false
	}
	return code, i + 1, true
}

func isCont(s string, i int) bool { return i < len(s) && s[i]&0xC0 == 0x80 }

// posRelative turns a 1-based, possibly negative position into one from 0 up.
func posRelative(pos, n int) int {
	switch {
	case pos >= 0:
		return pos
	case -pos > n:
		return 0
	default:
		return n + pos + 1
	}
}

func utf8Char(L *lua.LState) int {
	var b []byte
	for i := 1; i <= L.GetTop(); i++ {
		c := L.CheckInt64(i)
		if c < 0 || c > maxUTF {
			L.ArgError(i, "value out of range")
		}
		b = utf8Encode(b, uint32(c))
	}
	L.Push(lua.LString(b))
	return 1
}

func utf8Codepoint(L *lua.LState) int {
	s := L.CheckString(1)
	posi := posRelative(L.OptInt(2, 1), len(s))
	pose := posRelative(L.OptInt(3, posi), len(s))
	lax := L.OptBool(4, false)
	if posi < 1 {
		L.ArgError(2, "out of bounds")
	}
	if pose > len(s) {
		L.ArgError(3, "out of bounds")
	}
	n := 0
	for i := posi - 1; i < pose; {
		code, next, ok := utf8Decode(s, i, !lax)
		if !ok {
			L.RaiseError("invalid UTF-8 code")
		}
		L.Push(lua.LNumber(code))
		n++
		i = next
	}
	return n
}

func utf8Len(L *lua.LState) int {
	s := L.CheckString(1)
	posi := posRelative(L.OptInt(2, 1), len(s))
	posj := posRelative(L.OptInt(3, -1), len(s))
	lax := L.OptBool(4, false)
	posi--
	if posi < 0 || posi > len(s) {
		L.ArgError(2, "initial position out of bounds")
	}
	posj--
	if posj >= len(s) {
		L.ArgError(3, "final position out of bounds")
	}
	n := 0
	for posi <= posj {
		_, next, ok := utf8Decode(s, posi, !lax)
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LNumber(posi + 1))
			return 2
		}
		posi = next
		n++
	}
	L.Push(lua.LNumber(n))
	return 1
}

func utf8Codes(L *lua.LState) int {
	s := L.CheckString(1)
	lax := L.OptBool(2, false)
	if isCont(s, 0) {
		L.ArgError(1, "invalid UTF-8 code")
	}
	// Named as Lua 5.4 names it when it is called with bad arguments.
	L.Push(luax.Function(L, "for iterator", func(L *lua.LState) int {
		s := L.CheckString(1)
		n := int(L.CheckInt64(2))
		if n < 0 {
			return 0
		}
		for n < len(s) && isCont(s, n) {
			n++
		}
		if n >= len(s) {
			return 0
		}
		code, next, ok := utf8Decode(s, n, !lax)
		if !ok || isCont(s, next) {
			L.RaiseError("invalid UTF-8 code")
		}
		L.Push(lua.LNumber(n + 1))
		L.Push(lua.LNumber(code))
		return 2
	}))
	L.Push(lua.LString(s))
	L.Push(lua.LNumber(0))
	return 3
}

func utf8Offset(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	def := 1
	if n < 0 {
		def = len(s) + 1
	}
	posi := posRelative(L.OptInt(3, def), len(s))
	if posi < 1 || posi-1 > len(s) {
		L.ArgError(3, "position out of bounds")
	}
	posi--
	if n == 0 {
		for posi > 0 && isCont(s, posi) {
			posi--
		}
		L.Push(lua.LNumber(posi + 1))
		return 1
	}
	if isCont(s, posi) {
		L.RaiseError("initial position is a continuation byte")
	}
	if n < 0 {
		for n < 0 && posi > 0 {
			posi--
			for posi > 0 && isCont(s, posi) {
				posi--
			}
			n++
		}
	} else {
		n--
		for n > 0 && posi < len(s) {
			posi++
			for isCont(s, posi) {
				posi++
			}
			n--
		}
	}
	if n != 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(posi + 1))
	return 1
}
