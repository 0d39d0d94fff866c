package repl

import (
	lua "github.com/yuin/gopher-lua"

	"strings"
	"testing"
)

func TestCompileChunk(t *testing.T) {
	for _, tc := range []struct {
		src     string
		verdict verdict
		expr    bool
		errHas  string
	}{
		// Lone expressions are compiled as `return <src>`.
		{src: "x + 1", verdict: ready, expr: true},
		{src: "1, 2, 'three'", verdict: ready, expr: true},
		{src: "docker.containers{all=true}", verdict: ready, expr: true},
		{src: "print(1)", verdict: ready, expr: true},
		{src: "", verdict: ready, expr: true},
		// Statements.
		{src: "x = 41", verdict: ready},
		{src: "local t = {}", verdict: ready},
		{src: "for i = 1, 3 do\nprint(i * 10)\nend", verdict: ready},
		{src: "f()\ng()", verdict: ready},
		{src: "return 1, 2", verdict: ready},
		{src: "s = [[a\nb]]", verdict: ready},
		// Unfinished chunks need more lines.
		{src: "for i = 1, 3 do", verdict: more},
		{src: "for i = 1, 3 do\nprint(i * 10)", verdict: more},
		{src: "function f()", verdict: more},
		{src: "f = function(a, b)", verdict: more},
		{src: "if x then", verdict: more},
		{src: "repeat", verdict: more},
		{src: "x = {", verdict: more},
		{src: "print(1,", verdict: more},
		{src: "s = [[abc", verdict: more},
		{src: "--[[ long comment", verdict: more},
		{src: "x =", verdict: more},
		{src: "1 +", verdict: more},
		{src: "docker.containers{", verdict: more},
		// Errors that more lines cannot fix.
		{src: "x = = 1", verdict: invalid, errHas: "stdin:1: syntax error near '='"},
		{src: "end", verdict: invalid, errHas: "stdin:1:"},
		{src: "for i = 1, 3 do\nprint(i))", verdict: invalid, errHas: "stdin:2:"},
		{src: `s = "abc`, verdict: invalid, errHas: "unterminated string"},
		{src: "x y", verdict: invalid, errHas: "near 'y'"},
		{src: "return 1 2", verdict: invalid, errHas: "stdin:1:"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			c := compileChunk(tc.src)
			if c.verdict != tc.verdict {
				t.Fatalf("verdict %v, want %v (err %v)", c.verdict, tc.verdict, c.err)
			}
			if c.verdict == ready {
				if c.proto == nil {
					t.Error("ready but no compiled chunk")
				}
				if c.expr != tc.expr {
					t.Errorf("expr %v, want %v", c.expr, tc.expr)
				}
			}
			if tc.errHas != "" && (c.err == nil || !strings.Contains(c.err.Error(), tc.errHas)) {
				t.Errorf("err %v, want it to contain %q", c.err, tc.errHas)
			}
		})
	}
}

// An unfinished chunk abandoned at end of input reports where it stopped.
func TestCompileChunkEOFMessage(t *testing.T) {
	c := compileChunk("for i = 1, 3 do\nprint(i)")
	if c.verdict != more || c.err == nil {
		t.Fatalf("got %v %v", c.verdict, c.err)
	}
	if got, want := c.err.Error(), "stdin:2: syntax error at end of input"; got != want {
		t.Errorf("err %q, want %q", got, want)
	}
}

// A statement typed at the prompt is compiled through luax (gopher-lua's own
// compiler miscompiles a loop whose body starts with break: luax/compile.go).
func TestCompileChunkLoopStartingWithBreak(t *testing.T) {
	src := "local function gen() local i = 0 return function() i = i + 1 if i < 5 then return i end end end\n" +
		"n = 0\nfor i = 1, 120 do for l in gen() do break end; if i % 50 == 0 then n = n + 1 end end"
	c := compileChunk(src)
	if c.verdict != ready {
		t.Fatalf("verdict %v, err %v", c.verdict, c.err)
	}
	L := lua.NewState()
	defer L.Close()
	L.Push(L.NewFunctionFromProto(c.proto))
	if err := L.PCall(0, 0, nil); err != nil {
		t.Fatal(err)
	}
	if n := L.GetGlobal("n"); n.String() != "2" {
		t.Errorf("n = %v, want 2", n)
	}
}
