package repl

import (
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// keywords are Lua's reserved words, completed where a global name may go.
var keywords = []string{
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
	"in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

// completer is readline's AutoCompleter. It runs on readline's goroutine,
// which may read keys while a statement runs (type-ahead in cooked mode);
// idle is held by Run except while it waits at the prompt, so the Lua
// state is only read when no statement can be using it.
type completer struct {
	L     *lua.LState
	idle  *sync.Mutex
	extra func(L *lua.LState, expr string) []string
}

// Do returns the suffixes that complete the word before pos, and the length
// of the part of that word they extend (readline shows candidates from there).
func (c *completer) Do(line []rune, pos int) (suffixes [][]rune, length int) {
	if pos > len(line) || !c.idle.TryLock() {
		return nil, 0
	}
	defer c.idle.Unlock()
	// This is readline's goroutine: nothing may panic out of it.
	defer func() {
		if recover() != nil {
			suffixes, length = nil, 0
		}
	}()
	before := string(line[:pos])
	var words []completion
	if !inString(before) {
		words = append(words, luaCompletion(c.L, before))
	}
	if c.extra != nil {
		words = append(words, extraCompletion(c.L, before, c.extra))
	}
	seen := map[string]bool{}
	length = -1
	for _, w := range words {
		for _, full := range w.full {
			s := full[len(w.word):]
			// A candidate can be text from a container (a table's keys, a
			// container name): one a terminal could act on is left out.
			if seen[s] || luax.EscapeLine(s) != s {
				continue
			}
			seen[s] = true
			suffixes = append(suffixes, []rune(s))
			if length < 0 {
				length = len([]rune(w.partial))
			}
		}
	}
	if length < 0 {
		length = 0
	}
	return suffixes, length
}

// completion is a word at the end of the input and the full words that
// may replace it. partial is the part of word after its last '.' or ':'.
type completion struct {
	word, partial string
	full          []string
}

// luaCompletion completes the Lua name or dotted path that ends before:
// globals and keywords; fields of tables reached by a dotted path
// (docker.co → docker.container, docker.containers); methods after ':'
// (c:st → c:start, c:stats), for userdata from luax.Members.
func luaCompletion(L *lua.LState, before string) completion {
	word := trailing(before, func(r rune) bool { return isIdentRune(r) || r == '.' || r == ':' })
	c := completion{word: word, partial: word}
	i := strings.LastIndexAny(word, ".:")
	if i < 0 {
		if word != "" && !isIdentStart(rune(word[0])) {
			return c
		}
		names := tableKeys(L.G.Global, false)
		names = append(names, keywords...)
		c.full = matching(names, word, "")
		return c
	}
	base, method, partial := word[:i], word[i] == ':', word[i+1:]
	c.partial = partial
	v := lua.LValue(L.G.Global)
	for _, seg := range strings.Split(base, ".") {
		if !isIdent(seg) {
			return c
		}
		v = field(L, v, seg)
		if v == lua.LNil {
			return c
		}
	}
	c.full = matching(members(L, v, method), partial, word[:i+1])
	return c
}

// extraCompletion asks the caller's Complete for words that complete the
// word before the cursor, e.g. a container name in docker.container("we.
func extraCompletion(L *lua.LState, before string, extra func(*lua.LState, string) []string) completion {
	word := trailing(before, func(r rune) bool { return !strings.ContainsRune(" \t\"'()[]{},;=+-*/<>~", r) })
	return completion{word: word, partial: word, full: matching(extra(L, before), word, "")}
}

// matching returns prefix+name for each name that starts with partial,
// sorted and without duplicates. Names starting with "_" are left out
// unless partial starts with "_".
func matching(names []string, partial, prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, partial) || seen[n] || (strings.HasPrefix(n, "_") && !strings.HasPrefix(partial, "_")) {
			continue
		}
		seen[n] = true
		out = append(out, prefix+n)
	}
	sort.Strings(out)
	return out
}

// field looks up name in v without running Lua code: tables and the
// tables their __index chain leads to. Fields computed by Go __index
// functions (userdata) are not followed.
func field(L *lua.LState, v lua.LValue, name string) lua.LValue {
	for depth := 0; depth < 8; depth++ {
		if t, ok := v.(*lua.LTable); ok {
			if f := t.RawGetString(name); f != lua.LNil {
				return f
			}
		}
		next, ok := indexTable(L, v)
		if !ok {
			return lua.LNil
		}
		v = next
	}
	return lua.LNil
}

// indexTable returns the __index of v's metatable when it is a table.
func indexTable(L *lua.LState, v lua.LValue) (*lua.LTable, bool) {
	mt, ok := L.GetMetatable(v).(*lua.LTable)
	if !ok {
		return nil, false
	}
	t, ok := mt.RawGetString("__index").(*lua.LTable)
	return t, ok
}

// members lists the names that may follow v and '.' (or ':' when method
// is true, then only functions).
func members(L *lua.LState, v lua.LValue, method bool) []string {
	var names []string
	if ud, ok := v.(*lua.LUserData); ok {
		for _, n := range luax.Members(L, ud) {
			if !method || isMethod(luax.Method(ud, n)) {
				names = append(names, n)
			}
		}
	}
	for depth := 0; depth < 8 && v != nil; depth++ {
		if t, ok := v.(*lua.LTable); ok {
			names = append(names, tableKeys(t, method)...)
		}
		next, ok := indexTable(L, v)
		if !ok {
			break
		}
		v = next
	}
	return names
}

func isMethod(v lua.LValue) bool {
	return v != nil && v.Type() == lua.LTFunction
}

// tableKeys returns the string keys of t that are Lua names (only those
// holding functions when funcs is true).
func tableKeys(t *lua.LTable, funcs bool) []string {
	var out []string
	t.ForEach(func(k, v lua.LValue) {
		s, ok := k.(lua.LString)
		if !ok || !isIdent(string(s)) || (funcs && v.Type() != lua.LTFunction) {
			return
		}
		out = append(out, string(s))
	})
	return out
}

// trailing returns the longest suffix of s made of runes for which in is true.
func trailing(s string, in func(rune) bool) string {
	rs := []rune(s)
	i := len(rs)
	for i > 0 && in(rs[i-1]) {
		i--
	}
	return string(rs[i:])
}

func isIdentStart(r rune) bool {
	return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

func isIdentRune(r rune) bool { return isIdentStart(r) || '0' <= r && r <= '9' }

// isIdent reports whether s is a Lua name (keywords included).
func isIdent(s string) bool {
	if s == "" || !isIdentStart(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !isIdentRune(r) {
			return false
		}
	}
	return true
}

// inString reports whether the end of src is inside a string literal or a
// comment, where Lua names are not completed.
func inString(src string) bool {
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == '"' || c == '\'':
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(src) {
				return true
			}
			i++
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			i += 2
			if n, ok := longBracket(src[i:]); ok {
				end := strings.Index(src[i+n:], "]"+strings.Repeat("=", n-2)+"]")
				if end < 0 {
					return true
				}
				i += n + end + n
				continue
			}
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				return true
			}
			i += end + 1
		case c == '[':
			n, ok := longBracket(src[i:])
			if !ok {
				i++
				continue
			}
			end := strings.Index(src[i+n:], "]"+strings.Repeat("=", n-2)+"]")
			if end < 0 {
				return true
			}
			i += n + end + n
		default:
			i++
		}
	}
	return false
}

// longBracket reports whether s starts with an opening long bracket
// ("[[", "[==[") and its length.
func longBracket(s string) (int, bool) {
	if !strings.HasPrefix(s, "[") {
		return 0, false
	}
	n := 1
	for n < len(s) && s[n] == '=' {
		n++
	}
	if n < len(s) && s[n] == '[' {
		return n + 1, true
	}
	return 0, false
}
