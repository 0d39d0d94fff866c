package luax

import (
	"bytes"
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Every chunk ctrsh runs is compiled here (Compile, Load), never by
// gopher-lua's own L.Load, because gopher-lua v1.1.2 miscompiles some loops.
//
// Its compiler ends with a jump-to-jump pass (compile.go, patchCode: "jump
// to jump optimization") that walks the code in order and, for each JMP,
// follows the JMPs it lands on. It reads each target's operand as a label
// id, but a JMP it already passed holds a resolved offset by then, so a
// BACKWARD jump that lands on a jump (the jump at the end of a loop that
// goes back to a body starting with `break`, `goto`, `if false then`...)
// takes an offset for a label id and jumps somewhere else, or panics with
// an index out of range while compiling (gopher-lua issue #540 shows one
// form). After a generic for it is worse: OP_TFORLOOP executes the
// instruction after it as its own jump, and the pass may have turned that
// into a NOP, whose bits then serve as the offset.
//   for i = 1, 120 do for l in gen() do break end; if i % 50 == 0 then n = n + 1 end end
// leaves n = 120 instead of 2; other shapes loop forever.
//
// The fix works on the syntax tree before gopher-lua compiles it: every
// place that a backward jump targets (the start of a loop body, of a while
// loop's condition, the statement after a label) is made to start with an
// instruction that is not a jump — `do local (nop) end`, one LOADNIL —
// where its first statement could compile to a jump. Forward jumps are
// resolved correctly by the pass and need nothing. When gopher-lua fixes
// the pass, Compile can go back to parse.Parse + lua.Compile and the
// regression tests in compile_test.go keep holding.

// Compile parses and compiles a chunk read from r; name is the chunk name
// used in messages ("=stdin", "@file", or a bare name as L.Load takes it).
func Compile(r io.Reader, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(r, name)
	if err != nil {
		return nil, err
	}
	return CompileAST(chunk, name)
}

// Load is L.Load through Compile: the compiled chunk as a function, or a
// syntax error (*lua.ApiError of type ApiErrorSyntax, as L.Load returns).
func Load(L *lua.LState, r io.Reader, name string) (*lua.LFunction, error) {
	proto, err := Compile(r, name)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	return L.NewFunctionFromProto(proto), nil
}

// LoadString is L.LoadString through Compile.
func LoadString(L *lua.LState, src string) (*lua.LFunction, error) {
	return Load(L, strings.NewReader(src), "<string>")
}

// fixBlock is fixLabels for a block that a backward jump targets at its start.
func fixBlock(stmts []ast.Stmt, line int) []ast.Stmt {
	stmts = fixLabels(stmts)
	if mayStartWithJump(stmts) {
		stmts = append([]ast.Stmt{nop(line)}, stmts...)
	}
	return stmts
}

// fixLabels rewrites a block, the functions in it and the blocks inside it
// so that no backward jump lands on a jump (see above), and returns it (a
// nop may have been inserted after a label).
func fixLabels(stmts []ast.Stmt) []ast.Stmt {
	for i, s := range stmts {
		stmts[i] = fixStmt(s)
	}
	for i := 0; i < len(stmts); i++ {
		if _, ok := stmts[i].(*ast.LabelStmt); ok && i+1 < len(stmts) && mayStartWithJump(stmts[i+1:]) {
			stmts = insertNop(stmts, i+1)
		}
	}
	return stmts
}

func insertNop(stmts []ast.Stmt, at int) []ast.Stmt {
	stmts = append(stmts, nil)
	copy(stmts[at+1:], stmts[at:])
	stmts[at] = nop(stmts[at+1].Line())
	return stmts
}

// fixStmt fixes the blocks and function bodies inside one statement.
func fixStmt(s ast.Stmt) ast.Stmt {
	switch s := s.(type) {
	case *ast.GenericForStmt:
		fixExprs(s.Exprs)
		s.Stmts = fixBlock(s.Stmts, s.Line())
	case *ast.RepeatStmt:
		s.Stmts = fixBlock(s.Stmts, s.Line())
		fixExpr(s.Condition)
	case *ast.WhileStmt:
		return fixWhile(s)
	case *ast.NumberForStmt:
		fixExprs([]ast.Expr{s.Init, s.Limit, s.Step})
		s.Stmts = fixLabels(s.Stmts)
	case *ast.DoBlockStmt:
		s.Stmts = fixLabels(s.Stmts)
	case *ast.IfStmt:
		fixExpr(s.Condition)
		s.Then = fixLabels(s.Then)
		s.Else = fixLabels(s.Else)
	case *ast.AssignStmt:
		fixExprs(s.Lhs)
		fixExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		fixExprs(s.Exprs)
	case *ast.FuncCallStmt:
		fixExpr(s.Expr)
	case *ast.FuncDefStmt:
		fixExpr(s.Func)
	case *ast.ReturnStmt:
		fixExprs(s.Exprs)
	}
	return s
}

// fixWhile: the jump at the end of a while loop goes back to its condition.
// A condition that compiles to nothing (`while true`) makes the body's start
// the target; one whose code may start with a jump (`while false and x`) is
// moved into the body: `while true do if not (cond) then break end ... end`.
func fixWhile(s *ast.WhileStmt) ast.Stmt {
	fixExpr(s.Condition)
	jump, empty := condStartsWithJump(s.Condition, false)
	if jump {
		brk := &ast.IfStmt{Condition: &ast.UnaryNotOpExpr{Expr: s.Condition}, Then: []ast.Stmt{&ast.BreakStmt{}}}
		brk.SetLine(s.Condition.Line())
		brk.SetLastLine(s.Condition.LastLine())
		brk.Then[0].SetLine(s.Condition.Line())
		brk.Then[0].SetLastLine(s.Condition.LastLine())
		cond := &ast.TrueExpr{}
		cond.SetLine(s.Condition.Line())
		cond.SetLastLine(s.Condition.LastLine())
		s.Condition = cond
		s.Stmts = append([]ast.Stmt{nop(s.Line()), brk}, fixLabels(s.Stmts)...)
		return s
	}
	if empty {
		s.Stmts = fixBlock(s.Stmts, s.Line())
	} else {
		s.Stmts = fixLabels(s.Stmts)
	}
	return s
}

// mayStartWithJump reports whether the first instruction of a block could be
// a jump (conservatively: true when unsure).
func mayStartWithJump(stmts []ast.Stmt) bool {
	if len(stmts) == 0 {
		return true
	}
	switch s := stmts[0].(type) {
	case *ast.BreakStmt, *ast.GotoStmt, *ast.LabelStmt, *ast.RepeatStmt:
		return true
	case *ast.DoBlockStmt:
		return len(s.Stmts) == 0 || mayStartWithJump(s.Stmts)
	case *ast.IfStmt:
		jump, empty := condStartsWithJump(s.Condition, false)
		return jump || empty
	case *ast.WhileStmt:
		jump, empty := condStartsWithJump(s.Condition, false)
		return jump || empty
	}
	return false
}

// condStartsWithJump follows gopher-lua's compileBranchCondition to the
// first instruction a condition compiles to: a jump, or nothing at all
// (a constant true in that position), or else some other instruction.
func condStartsWithJump(e ast.Expr, hasNextCond bool) (jump, empty bool) {
	switch e := e.(type) {
	case *ast.FalseExpr, *ast.NilExpr:
		return !hasNextCond, false
	case *ast.TrueExpr, *ast.NumberExpr, *ast.StringExpr:
		return false, !hasNextCond
	case *ast.UnaryNotOpExpr:
		return condStartsWithJump(e.Expr, !hasNextCond)
	case *ast.LogicalOpExpr:
		jump, empty = condStartsWithJump(e.Lhs, e.Operator == "or")
		if !empty {
			return jump, false
		}
		return condStartsWithJump(e.Rhs, hasNextCond)
	}
	return false, false
}

// nop is `do local (nop) end`: one LOADNIL, a name no program can use.
func nop(line int) ast.Stmt {
	local := &ast.LocalAssignStmt{Names: []string{"(nop)"}}
	local.SetLine(line)
	local.SetLastLine(line)
	do := &ast.DoBlockStmt{Stmts: []ast.Stmt{local}}
	do.SetLine(line)
	do.SetLastLine(line)
	return do
}

func fixExprs(es []ast.Expr) {
	for _, e := range es {
		fixExpr(e)
	}
}

// fixExpr fixes the bodies of the functions an expression defines.
func fixExpr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.FunctionExpr:
		e.Stmts = fixLabels(e.Stmts)
	case *ast.AttrGetExpr:
		fixExprs([]ast.Expr{e.Object, e.Key})
	case *ast.TableExpr:
		for _, f := range e.Fields {
			fixExprs([]ast.Expr{f.Key, f.Value})
		}
	case *ast.FuncCallExpr:
		fixExprs([]ast.Expr{e.Func, e.Receiver})
		fixExprs(e.Args)
	case *ast.LogicalOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.RelationalOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.StringConcatOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.ArithmeticOpExpr:
		fixExprs([]ast.Expr{e.Lhs, e.Rhs})
	case *ast.UnaryMinusOpExpr:
		fixExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		fixExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		fixExpr(e.Expr)
	}
}

// CompileAST compiles a parsed chunk the way Compile does (for the shell,
// which parses first to tell an unfinished statement from a wrong one).
func CompileAST(chunk []ast.Stmt, name string) (*lua.FunctionProto, error) {
	return lua.Compile(fixLabels(chunk), name)
}

// LoadFile is L.LoadFile through Compile: a first line starting with # is
// skipped (a script's #! line), and the chunk is named after path.
func LoadFile(L *lua.LState, path string) (*lua.LFunction, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorFile, Object: lua.LString(err.Error()), Cause: err}
	}
	if len(b) > 0 && b[0] == '#' {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i:] // keep the newline: line numbers stay right
		} else {
			b = nil
		}
	}
	return Load(L, bytes.NewReader(b), path)
}
