package bindings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
)

func openBase(L *lua.LState, env *luax.Env) {
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	luax.SetFuncs(L, g, []luax.Func{
		{Name: "print", Doc: "print(...) -- write the values, tab separated, and a newline (Lua's print)", Fn: basePrint},
		{Name: "pp", Doc: "pp(v, ...) -- pretty-print values: sorted keys, depth limit, cycles shown", Fn: basePP},
		{Name: "emit", Doc: "emit(t) -- a result record: one JSON line with --json, an aligned table row otherwise", Fn: baseEmit(env)},
		{Name: "sleep", Doc: "sleep(seconds) -- wait; Ctrl-C and --timeout stop it", Fn: baseSleep},
		{Name: "now", Doc: "now() --> current time as fractional Unix seconds", Fn: baseNow},
		{Name: "help", Doc: `help([fn_or_module]) -- list modules, or print the doc of a function, module or method; help("word") lists every function and playbook that mentions word`, Fn: baseHelp},
		{Name: "fail", Doc: "fail(msg) -- end the run with a finding: message on stderr, exit code 3", Fn: baseFail},
		{Name: "mkdir", Doc: "mkdir(path [, mode=0755]) --> true | nil, err: create a directory and its parents", Fn: baseMkdir, Unsafe: true},
		{Name: "collectgarbage", Doc: `collectgarbage([opt="collect"]) -- Lua's: "collect" runs a full garbage collection and closes the streams and connections no Lua value refers to any more (a loop left with break); "count" --> the heap in KB`, Fn: baseCollectGarbage},
		{Name: "playbook", Doc: "playbook{description=, args={{name=, help=, default=, optional=}...}} --> {args=, name=, description=}: declare and parse the script's arguments", Fn: basePlaybook},
	})
	luax.SetFuncs(L, g, testGlobals)
	jsonMod := luax.NewModule(L, "json", "json: encode and decode JSON", []luax.Func{
		{Name: "encode", Doc: "json.encode(v [, {indent=true}]) --> string: tables with keys 1..n are arrays", Fn: jsonEncode},
		{Name: "decode", Doc: "json.decode(s) --> value | nil, err: null is nil, arrays are tables 1..n", Fn: jsonDecode},
	})
	L.SetGlobal("json", jsonMod)
	for _, name := range []string{"string", "table", "math", "os", "io", "coroutine", "debug", "package"} {
		if t, ok := L.GetGlobal(name).(*lua.LTable); ok {
			luax.SetDoc(L, t, name+": Lua 5.1 standard library")
		}
	}
}

// safeHelp is what help() says about --safe.
const safeHelp = `--safe runs read-only diagnostics: no io but io.write, io.stdout and io.stderr;
  no os but os.time, os.clock, os.date and os.difftime; no load, loadstring,
  loadfile, dofile, debug, net or mkdir; and nothing that changes or enters a
  container: c:exec, c:enter, c:run, c:start, c:stop, c:restart, c:kill,
  c:pause, c:unpause, ns.enter, ns.run (so no allow_host either). Each raises
  "NAME is not available with --safe".`

// print lua print(...) is Lua's print to the state's stdout, after the rows
// emit() holds, so output keeps its order.
func basePrint(L *lua.LState) int {
	luax.Flush(L)
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(luax.ToString(L, L.Get(i)))
	}
	b.WriteByte('\n')
	io.WriteString(luax.GetEnv(L).Stdout, b.String())
	return 0
}

// pp lua pp(v, ...) prints each value formatted for people.
func basePP(L *lua.LState) int {
	luax.Flush(L)
	out := luax.GetEnv(L).Stdout
	for i := 1; i <= L.GetTop(); i++ {
		fmt.Fprintln(out, luax.Format(L, L.Get(i), luax.FormatOptions{}))
	}
	return 0
}

// emit lua emit(t) writes a result record.
func baseEmit(env *luax.Env) lua.LGFunction {
	rows := &rowWriter{out: env.Stdout, stream: env.Interactive}
	env.FlushRows = rows.flush
	return func(L *lua.LState) int {
		t := L.CheckTable(1)
		if env.JSON {
			b, err := luax.MarshalJSON(luax.ToGo(t), false)
			if err != nil {
				L.RaiseError("emit: %v", err)
			}
			b = append(b, '\n')
			if _, err := env.Stdout.Write(b); err != nil {
				L.RaiseError("emit: %v", err)
			}
			return 0
		}
		rows.add(L, t)
		return 0
	}
}

// rowWriter prints records as an aligned table: rows are held until the
// script prints, waits (sleep, a stream), ends, or 200 rows are held, and
// each batch is aligned as a whole, with a header when the set of keys
// changes. In the shell (stream) each row is written at once. Columns
// are ordered, measured and aligned by the table engine (tabular):
// numbers right-aligned, widths in terminal cells.
type rowWriter struct {
	out     io.Writer
	stream  bool
	keys    []string // the header of the rows held or last written
	pending [][]string
	widths  []int
	right   []bool // the column's cells so far are all numbers
}

// maxPending bounds how many rows wait for alignment.
const maxPending = 200

func rowKeys(t *lua.LTable) []string {
	var keys []string
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k.String()) })
	return tabular.OrderKeys(keys)
}

// cell is a value as a table shows it: on one line, its control characters
// escaped (a table is for people, on a terminal or not; --json is the form
// for programs), so that a container's text can neither break the columns
// nor act on the terminal. num is true for numbers.
func cell(L *lua.LState, v lua.LValue) (text string, num bool) {
	switch v := v.(type) {
	case lua.LString:
		return luax.EscapeLine(string(v)), false
	case lua.LNumber:
		return luax.FormatNumber(float64(v)), true
	case *lua.LTable:
		b, _ := luax.MarshalJSON(luax.ToGo(v), false)
		return string(b), false
	default:
		return luax.EscapeLine(luax.ToString(L, v)), false
	}
}

func (w *rowWriter) add(L *lua.LState, t *lua.LTable) {
	keys := rowKeys(t)
	row := make([]string, len(keys))
	nums := make([]bool, len(keys))
	for i, k := range keys {
		row[i], nums[i] = cell(L, t.RawGetString(k))
	}
	w.addRow(keys, row, nums)
}

// addRow holds one row of cells under keys (in column order); nums marks
// the cells that are numbers.
func (w *rowWriter) addRow(keys, row []string, nums []bool) {
	if strings.Join(keys, "\x00") != strings.Join(w.keys, "\x00") {
		w.flush()
		w.keys = keys
		header := make([]string, len(keys))
		for i, k := range keys {
			header[i] = strings.ToUpper(k)
		}
		w.widths = make([]int, len(keys))
		w.right = make([]bool, len(keys))
		for i := range w.right {
			w.right[i] = true
		}
		w.pending = append(w.pending, header)
	}
	for i, c := range row {
		if c != "" && !nums[i] {
			w.right[i] = false
		}
	}
	w.pending = append(w.pending, row)
	if w.stream || len(w.pending) >= maxPending {
		w.flush()
	}
}

// flush writes the held rows, each column as wide as its widest cell so
// far, numbers (and their header) on the right.
func (w *rowWriter) flush() {
	if len(w.pending) == 0 {
		return
	}
	for _, row := range w.pending {
		for i, c := range row {
			w.widths[i] = max(w.widths[i], tabular.Width(c))
		}
	}
	var b strings.Builder
	for _, row := range w.pending {
		var line strings.Builder
		for i, c := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(tabular.Pad(c, w.widths[i], w.right[i]))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
	w.pending = w.pending[:0]
	io.WriteString(w.out, b.String())
}

// Rows is emit()'s table writer for Go callers (ctrsh fleet): the same
// column order, alignment and headers as emit's rows. Cells are written as
// given: the caller escapes what it must. A cell that parses as a number
// is one (right-aligned).
type Rows struct{ w rowWriter }

// NewRows writes rows to out; with stream each row is written at once,
// otherwise rows are held and aligned until Flush (or 200 are held).
func NewRows(out io.Writer, stream bool) *Rows {
	return &Rows{w: rowWriter{out: out, stream: stream}}
}

// Add writes (or holds) one row; its columns are its keys in emit's order.
func (r *Rows) Add(row map[string]string) {
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	keys = tabular.OrderKeys(keys)
	cells := make([]string, len(keys))
	nums := make([]bool, len(keys))
	for i, k := range keys {
		cells[i] = row[k]
		_, err := strconv.ParseFloat(cells[i], 64)
		nums[i] = err == nil
	}
	r.w.addRow(keys, cells, nums)
}

// Flush writes the rows held.
func (r *Rows) Flush() { r.w.flush() }

// sleep lua sleep(seconds) waits, honouring the statement's context.
func baseSleep(L *lua.LState) int {
	sec := float64(L.CheckNumber(1))
	switch {
	case math.IsNaN(sec):
		L.ArgError(1, "seconds must be a number, got nan")
	case sec < 0:
		L.ArgError(1, "seconds must not be negative")
	}
	// Longer than a Duration holds (math.huge): until the statement ends.
	d := time.Duration(math.MaxInt64)
	if sec < float64(math.MaxInt64/int64(time.Second)) {
		d = time.Duration(sec * float64(time.Second))
	}
	luax.Flush(L)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-luax.Ctx(L).Done():
		L.RaiseError("%s", luax.Ctx(L).Err().Error())
	}
	return 0
}

// collectgarbage lua collectgarbage([opt]) is Lua 5.1's, on Go's collector.
// gopher-lua's runs runtime.GC() only; the cleanups that close abandoned
// streams run after it on a goroutine of their own, so this one also
// releases, and waits for, what the collection found unreachable.
func baseCollectGarbage(L *lua.LState) int {
	switch opt := L.OptString(1, "collect"); opt {
	case "collect":
		luax.Collect(L)
		L.Push(lua.LNumber(0))
	case "step":
		luax.Collect(L)
		L.Push(lua.LTrue) // a cycle finished
	case "count":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		L.Push(lua.LNumber(float64(ms.HeapAlloc) / 1024))
	case "stop", "restart", "setpause", "setstepmul":
		L.Push(lua.LNumber(0)) // Go's collector has no such knobs here
	default:
		L.ArgError(1, fmt.Sprintf("invalid option %q", opt))
	}
	return 1
}

// now lua now() returns fractional Unix seconds.
func baseNow(L *lua.LState) int {
	L.Push(luax.Seconds(time.Now()))
	return 1
}

// fail lua fail(msg) ends the run with exit code 3.
func baseFail(L *lua.LState) int {
	msg := L.OptString(1, "check failed")
	luax.RaiseExit(L, luax.ExitFinding, msg)
	return 0
}

// help lua help(x) prints docs.
func baseHelp(L *lua.LState) int {
	out := luax.GetEnv(L).Stdout
	if L.GetTop() == 0 {
		fmt.Fprintln(out, "modules (help(name) for one):")
		for _, name := range luax.Modules(L) {
			t := L.GetGlobal(name)
			fmt.Fprintf(out, "  %-10s %s\n", name, strings.TrimPrefix(luax.Doc(L, t), name+": "))
		}
		fmt.Fprintln(out, "globals: pp emit print sleep now help fail playbook mkdir json collectgarbage top progress")
		fmt.Fprintln(out, "language: "+compatDoc)
		fmt.Fprintln(out, "e.g. help(docker), help(docker.container), help(\"ctrsh.Container\")")
		fmt.Fprintln(out, safeHelp)
		if luax.GetEnv(L).Safe {
			fmt.Fprintln(out, "this run is --safe.")
		}
		return 0
	}
	v := L.Get(1)
	if s, ok := v.(lua.LString); ok {
		if v = lookupPath(L, string(s)); v == lua.LNil {
			searchHelp(L, out, string(s))
			return 0
		}
	}
	doc := luax.Doc(L, v)
	switch v := v.(type) {
	case *lua.LTable:
		if doc == "" {
			doc = "table"
		}
		fmt.Fprintln(out, doc)
		printMembers(L, out, v)
		return 0
	case *lua.LUserData:
		if mt, ok := v.Metatable.(*lua.LTable); ok {
			if d := luax.Doc(L, mt); d != "" {
				doc = d
			}
			fmt.Fprintln(out, doc)
			if methods, ok := mt.RawGetString("__methods").(*lua.LTable); ok {
				printMembers(L, out, methods)
			}
			return 0
		}
	}
	if doc == "" {
		doc = "no help for " + luax.ToString(L, v)
	}
	fmt.Fprintln(out, doc)
	return 0
}

// lookupPath resolves "docker.container" or a type name "ctrsh.Container".
func lookupPath(L *lua.LState, path string) lua.LValue {
	if mt, ok := L.GetTypeMetatable(path).(*lua.LTable); ok {
		return mt
	}
	var v lua.LValue = L.Get(lua.GlobalsIndex)
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == ':' }) {
		t, ok := v.(*lua.LTable)
		if !ok {
			return lua.LNil
		}
		v = t.RawGetString(part)
	}
	return v
}

func printMembers(L *lua.LState, out io.Writer, t *lua.LTable) {
	if methods, ok := t.RawGetString("__methods").(*lua.LTable); ok {
		t = methods
	}
	for _, k := range luax.SortedKeys(t) {
		d := luax.Doc(L, t.RawGet(k))
		if d == "" {
			continue
		}
		fmt.Fprintf(out, "  %s\n", d)
	}
}

// json.encode lua json.encode(v [, {indent=true}]) returns a string.
func jsonEncode(L *lua.LState) int {
	v := L.CheckAny(1)
	o := luax.CheckOptions(L, 2, "indent")
	b, err := luax.MarshalJSON(luax.ToGo(v), o.Bool("indent", false))
	if err != nil {
		return luax.Fail(L, fmt.Errorf("json.encode: %w", err))
	}
	L.Push(lua.LString(b))
	return 1
}

// json.decode lua json.decode(s) returns a value or nil, err.
func jsonDecode(L *lua.LState) int {
	s := L.CheckString(1)
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return luax.Fail(L, fmt.Errorf("json.decode: %w", err))
	}
	if dec.More() {
		return luax.Failf(L, "json.decode: trailing data after the value")
	}
	L.Push(luax.ToLua(L, v))
	return 1
}

// mkdir lua mkdir(path [, mode]) creates a directory and its parents.
func baseMkdir(L *lua.LState) int {
	path := L.CheckString(1)
	m := luax.OptInteger(L, 2, 0o755)
	if m < 0 || m > 0o7777 {
		L.ArgError(2, fmt.Sprintf("mode must be between 0 and 0o7777, got %d", m))
	}
	mode := os.FileMode(m & 0o777)
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	if m&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if m&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if err := os.MkdirAll(path, mode); err != nil {
		return luax.Fail(L, fmt.Errorf("mkdir %s: %w", path, errors.Unwrap(err)))
	}
	L.Push(lua.LTrue)
	return 1
}
