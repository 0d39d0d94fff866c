package repl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ctrsh/ctrsh/bindings/luax"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// chunkName names the shell's input in error messages: "stdin:1: boom".
const chunkName = "stdin"

// verdict is what the input read so far amounts to.
type verdict int

const (
	// ready: the input compiles; run it.
	ready verdict = iota
	// more: the input is a prefix of a chunk (an unfinished `for ... do`,
	// an open long string or function): read another line.
	more
	// invalid: the input has a syntax error that more lines cannot fix.
	invalid
)

func (v verdict) String() string {
	switch v {
	case ready:
		return "ready"
	case more:
		return "more"
	default:
		return "invalid"
	}
}

// chunk is the result of compiling the lines read so far.
type chunk struct {
	verdict verdict
	// proto is the compiled chunk when verdict is ready.
	proto *lua.FunctionProto
	// expr is true when the input was compiled as `return <input>`: a lone
	// expression whose values are printed.
	expr bool
	// err is the syntax error when verdict is invalid.
	err error
}

// compileChunk decides, with gopher-lua's parser rather than by counting
// brackets, what src (the lines read so far, joined by newlines) is. As
// Lua 5.3's REPL does, it first tries `return <src>` so that a lone
// expression is evaluated and printed, then src as statements. A parse
// error at end of input means the chunk is unfinished.
func compileChunk(src string) chunk {
	// The newline ends the last line: a short string left open on it is an
	// error (as in Lua), while a long string or comment left open is not.
	exprAST, exprErr := parse.Parse(strings.NewReader("return "+src+"\n"), chunkName)
	if exprErr == nil {
		if proto, err := luax.CompileAST(exprAST, chunkName); err == nil {
			return chunk{verdict: ready, proto: proto, expr: true}
		}
	}
	stmtAST, stmtErr := parse.Parse(strings.NewReader(src+"\n"), chunkName)
	if stmtErr == nil {
		proto, err := luax.CompileAST(stmtAST, chunkName)
		if err != nil {
			return chunk{verdict: invalid, err: fmt.Errorf("%s: %v", chunkName, err)}
		}
		return chunk{verdict: ready, proto: proto}
	}
	if atEOF(stmtErr) || atEOF(exprErr) {
		return chunk{verdict: more, err: syntaxError(stmtErr, src)}
	}
	return chunk{verdict: invalid, err: syntaxError(stmtErr, src)}
}

// atEOF reports whether err is a parse error found at the end of the input.
func atEOF(err error) bool {
	var pe *parse.Error
	return errors.As(err, &pe) && pe.Pos.Line == parse.EOF
}

// syntaxError rewrites gopher-lua's parse error in Lua's own form:
// "stdin:1: syntax error near '='".
func syntaxError(err error, src string) error {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Pos.Line == parse.EOF {
		lines := strings.Count(src, "\n") + 1
		return fmt.Errorf("%s:%d: %s at end of input", chunkName, lines, pe.Message)
	}
	if pe.Token == "" {
		return fmt.Errorf("%s:%d: %s", chunkName, pe.Pos.Line, pe.Message)
	}
	return fmt.Errorf("%s:%d: %s near '%s'", chunkName, pe.Pos.Line, pe.Message, pe.Token)
}
