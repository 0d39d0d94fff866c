// Command funclen reports Go functions that are too long to read at once.
//
//	go run ./internal/tools/funclen [-max 80] [dir ...]
//
// It walks each directory (default "."), parses every non-test .go file that
// is not generated (a "// Code generated ... DO NOT EDIT." line), and prints
// one line per function longer than -max lines, then exits with status 1 if
// there was any. A function is a declaration (func F, func (r T) M) or a
// function literal outside any declaration (a closure in a package-level
// var); a closure inside a function counts towards that function.
//
// Its length is the lines from the func keyword to the closing brace, less
// the lines that hold only data: lines wholly inside a composite literal
// (a table of test cases, a module's map of names to functions, a
// usage text built as a slice of strings), except the lines of a function
// literal inside that literal, which are code again. So a function whose body
// is mostly a table is not reported for the table, and a table of closures
// still counts each closure. There is no comment that turns the check off.
//
// Directories named testdata or vendor, and those starting with "." or "_",
// are skipped, as the go command skips them.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("funclen", flag.ContinueOnError)
	flags.SetOutput(stderr)
	max := flags.Int("max", 80, "longest function allowed, in lines of code")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	dirs := flags.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	var long []Func
	for _, dir := range dirs {
		found, err := walk(dir, *max)
		if err != nil {
			fmt.Fprintf(stderr, "funclen: %v\n", err)
			return 2
		}
		long = append(long, found...)
	}
	for _, f := range long {
		fmt.Fprintf(stdout, "%s:%d: %s is %d lines (max %d)\n", f.File, f.Line, f.Name, f.Lines, *max)
	}
	if len(long) > 0 {
		fmt.Fprintf(stderr, "funclen: %d functions longer than %d lines\n", len(long), *max)
		return 1
	}
	return 0
}

// Func is one function and its length in lines of code.
type Func struct {
	File  string
	Line  int
	Name  string
	Lines int
}

// walk returns the functions longer than max in the Go files below dir.
func walk(dir string, max int) ([]Func, error) {
	var long []Func
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (name == "testdata" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		funcs, err := Measure(path, src)
		if err != nil {
			return err
		}
		for _, f := range funcs {
			if f.Lines > max {
				long = append(long, f)
			}
		}
		return nil
	})
	sort.SliceStable(long, func(i, j int) bool {
		if long[i].File != long[j].File {
			return long[i].File < long[j].File
		}
		return long[i].Line < long[j].Line
	})
	return long, err
}

// Measure returns every function of a Go source file with its length in
// lines of code (see the package doc); none for a generated file.
func Measure(filename string, src []byte) ([]Func, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(file) {
		return nil, nil
	}
	var funcs []Func
	add := func(name string, n ast.Node) {
		start := fset.Position(n.Pos()).Line
		end := fset.Position(n.End()).Line
		funcs = append(funcs, Func{
			File:  filename,
			Line:  start,
			Name:  name,
			Lines: end - start + 1 - dataLines(fset, n, start, end),
		})
	}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			add(funcName(d), d)
		case *ast.GenDecl:
			// Closures at package level (var x = func...; tables of them).
			ast.Inspect(d, func(n ast.Node) bool {
				if lit, ok := n.(*ast.FuncLit); ok {
					add("func literal", lit)
					return false
				}
				return true
			})
		}
	}
	return funcs, nil
}

// funcName is F or T.M (as go doc names them).
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + d.Name.Name
		}
		return d.Name.Name
	}
}

// dataLines counts the lines of n, between start and end, that lie wholly
// inside a composite literal and not inside a function literal within it:
// every line after a literal's opening line up to the line before its
// closing brace (those two lines hold code around the data).
func dataLines(fset *token.FileSet, n ast.Node, start, end int) int {
	data := make([]bool, end-start+1)
	mark := func(from, to int, v bool) {
		for l := from; l <= to; l++ {
			if l >= start && l <= end {
				data[l-start] = v
			}
		}
	}
	// In source order (pre-order: an enclosing node before the nodes in
	// it), so the innermost literal decides a line: data in a composite
	// literal, code again in a function literal within it.
	ast.Inspect(n, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.CompositeLit:
			mark(fset.Position(x.Lbrace).Line+1, fset.Position(x.Rbrace).Line-1, true)
		case *ast.FuncLit:
			if x != n {
				mark(fset.Position(x.Pos()).Line, fset.Position(x.End()).Line, false)
			}
		}
		return true
	})
	count := 0
	for _, d := range data {
		if d {
			count++
		}
	}
	return count
}
