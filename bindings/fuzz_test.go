package bindings_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/journal"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// FuzzLua calls every module function, global and method of a ctrsh state
// with generated arguments, against the test engine, and fails on a Go
// panic (what ends a run with exit 70), on a call that does not return
// after its statement was cancelled, and on an argument error that does not
// name its function. `make test` runs it for 60 s, `make fuzz` longer:
//
//	go test -run='^$' -fuzz='^FuzzLua$' -fuzztime=60s ./bindings
//
// It runs as root on a shared machine, so what it can reach is fenced in:
//   - methods are called only on values it made itself: its own container
//     (labelled ctrsh.test=1, removed at the end, at most 64 processes and
//     128 MiB), that container's init and cgroup, ctrsh's own process, TCP
//     connections to its own server on the loopback, io.stdout (the
//     state's, which it discards), and a journal of its own (an empty one
//     in its temporary directory, also $CTRSH_JOURNAL); never on what a
//     call returned
//     (docker.containers lists other people's containers);
//   - what runs commands or code is given only its own container (or
//     harmless non-PIDs) as the target, and commands and chunks from a
//     fixed harmless list (true, echo; return ..., error): c:exec, c:enter,
//     c:run, ns.enter, ns.run; and allow_host is never passed;
//   - net.dial and net.http_get reach only its own servers (or addresses
//     that cannot resolve), never the network; journal.open only files in
//     its own temporary directory;
//   - mkdir is not called (it writes the host's filesystem), nor io and os;
//   - everything else only reads (docker.container(ref) with a generated
//     ref may read someone's container, trace.* what the kernel reports
//     about every container; it changes nothing).
//
// A function that this list does not know fails the fuzz until someone
// decides how to drive it safely.
func FuzzLua(f *testing.F) {
	fz := newFuzzer(f)
	for _, seed := range fuzzSeeds(fz) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fz.run(t, data)
	})
}

// Kinds of fuzz targets: how their arguments are made.
const (
	generic     = iota // any generated values
	cmdArgs            // (cmd, opts): cmd from a harmless list
	chunkArgs          // (chunk, ...): chunk from a harmless list
	nsTarget           // (target, cmd or chunk, ...): target is our container
	dialArgs           // (addr, opts): our server's address
	urlArgs            // (url, opts): our server's URL
	journalPath        // (path): our journal, or files that are not one
)

type fuzzTarget struct {
	name string // "docker.containers"; a method: "Container:logs" (the type of self, its name)
	kind int
	opts []string
}

// fuzzTargets is every function the fuzz drives, with the option names
// worth generating for it. A function of a state not listed here fails it.
var fuzzTargets = []fuzzTarget{
	{name: "print"}, {name: "pp"}, {name: "emit"}, {name: "sleep"}, {name: "now"}, {name: "help"},
	{name: "fail"}, {name: "collectgarbage"}, {name: "playbook", opts: []string{"description", "args", "name"}},
	// top off a terminal samples every container (it reads); progress
	// draws nothing off a terminal.
	{name: "top", opts: []string{"interval", "sort", "filter"}}, {name: "progress"},
	{name: "json.encode", opts: []string{"indent"}}, {name: "json.decode"},
	{name: "docker.ping"}, {name: "docker.info"},
	{name: "docker.containers", opts: []string{"all", "filters"}},
	{name: "docker.container"},
	{name: "docker.stats", opts: []string{"interval", "filters"}},
	{name: "events.stream", opts: []string{"filters", "since", "until"}},
	{name: "events.watch", opts: []string{"filters", "since", "until"}},
	{name: "logs.read", opts: []string{"tail", "since", "until", "follow", "timestamps", "grep", "stdout", "stderr"}},
	{name: "proc.get"}, {name: "proc.self"}, {name: "proc.list", opts: []string{"container", "comm"}},
	{name: "cgroup.mode"}, {name: "cgroup.version"}, {name: "cgroup.of"}, {name: "cgroup.open"},
	{name: "ns.of"}, {name: "ns.same"},
	{name: "ns.enter", kind: nsTarget, opts: []string{"ns", "join_cgroup", "workdir", "user", "env", "capture", "stdin"}},
	{name: "ns.run", kind: nsTarget},
	{name: "net.dial", kind: dialArgs, opts: []string{"timeout"}},
	{name: "net.http_get", kind: urlArgs, opts: []string{"timeout", "headers"}},

	{name: "Container:refresh"}, {name: "Container:inspect"}, {name: "Container:top"},
	{name: "Container:stats", opts: []string{"interval"}},
	{name: "Container:exec", kind: cmdArgs, opts: []string{"user", "env", "workdir", "tty", "stdin", "timeout"}},
	{name: "Container:logs", opts: []string{"tail", "since", "until", "follow", "timestamps", "grep", "stdout", "stderr"}},
	{name: "Container:events", opts: []string{"filters", "since", "until"}},
	{name: "Container:ns"}, {name: "Container:cgroup"},
	{name: "Container:start"}, {name: "Container:pause"}, {name: "Container:unpause"},
	{name: "Container:stop", opts: []string{"timeout"}}, {name: "Container:restart", opts: []string{"timeout"}},
	{name: "Container:kill"}, {name: "Container:wait"},
	{name: "Container:enter", kind: cmdArgs, opts: []string{"ns", "join_cgroup", "workdir", "user", "env", "capture", "stdin"}},
	{name: "Container:run", kind: chunkArgs},
	{name: "Process:environ"}, {name: "Process:ns"}, {name: "Process:cgroup"}, {name: "Process:children"},
	{name: "Process:status"}, {name: "Process:container"},
	{name: "Cgroup:memory"}, {name: "Cgroup:cpu"}, {name: "Cgroup:pids"}, {name: "Cgroup:io"},
	{name: "Cgroup:procs"}, {name: "Cgroup:oom_kills"}, {name: "Cgroup:watch_oom", opts: []string{"timeout"}},
	{name: "Conn:write"}, {name: "Conn:read"}, {name: "Conn:close"},
	{name: "Stream:write"}, {name: "Stream:flush"}, {name: "Stream:setvbuf"}, {name: "Stream:close"},
	{name: "utf8.char"}, {name: "utf8.codepoint"}, {name: "utf8.codes"}, {name: "utf8.len"}, {name: "utf8.offset"},

	// Tracing reads what the kernel reports; a stream ends with its call.
	{name: "trace.exec", opts: traceOpts}, {name: "trace.exit", opts: traceOpts}, {name: "trace.oom", opts: traceOpts},
	{name: "trace.connect", opts: traceOpts}, {name: "trace.open", opts: traceOpts}, {name: "trace.stream", opts: traceOpts},
	{name: "Container:trace", opts: traceOpts},

	// The journal: read-only, of the fuzz's own file ($CTRSH_JOURNAL).
	{name: "journal.events", opts: journalOpts}, {name: "journal.samples", opts: journalOpts},
	{name: "journal.open", kind: journalPath}, {name: "journal.path"},
	{name: "Journal:events", opts: journalOpts}, {name: "Journal:samples", opts: journalOpts}, {name: "Journal:close"},
	{name: "Container:history", opts: journalOpts},

	// Every runtime's containers, read-only: lookups, lists, stats and
	// event streams (the fuzz's methods act on its own container only).
	{name: "cri.version"}, {name: "cri.containers", opts: []string{"all", "filters"}}, {name: "cri.container"},
	{name: "cri.pods", opts: []string{"all", "filters"}}, {name: "cri.events", opts: []string{"filters", "since", "until"}},
	{name: "containers.list", opts: []string{"all", "filters"}}, {name: "containers.get"},
	{name: "containers.stats", opts: []string{"interval", "filters"}},
	{name: "containers.events", opts: []string{"filters", "since", "until"}}, {name: "containers.runtimes"},
	{name: "Container:env"},
}

var journalOpts = []string{"since", "until", "container", "action", "source", "type", "limit"}

var traceOpts = []string{"container", "duration", "until", "buffer", "path"}

// notFuzzed are the functions of a state the fuzz leaves alone, and why.
var notFuzzed = map[string]string{
	"mkdir": "creates directories on the host",
}

// Harmless commands and chunks for what runs them.
var (
	fuzzCommands = []string{"true", "echo fuzz", "no-such-tool-ctrsh", "false", "sh -c exit", ""}
	fuzzChunks   = []string{"return 1", "return ...", "error('fuzz')", "return {a = {1, 2}}", "print(...)",
		"return 0/0", "return string.rep('x', 100)", "return", "syntax error here"}
)

type fuzzer struct {
	journals []string // paths for journal.open: ours, and others that are not journals
	id       string   // our container
	addr     string   // our TCP server
	url      string   // our HTTP server
	closed   string   // a loopback port nothing listens on
	targets  []fuzzTarget
}

func newFuzzer(f *testing.F) *fuzzer {
	host := testengine.Host(f)
	fz := &fuzzer{targets: fuzzTargets}
	// A journal of our own, and the default journal is it.
	dir := f.TempDir()
	jpath := filepath.Join(dir, "journal.db")
	store, err := journal.Open(context.Background(), jpath)
	if err != nil {
		f.Fatal(err)
	}
	store.Close()
	f.Setenv("CTRSH_JOURNAL", jpath)
	notJournal := filepath.Join(dir, "not-a-journal")
	if err := os.WriteFile(notJournal, []byte("SQLite format 3\x00 but not really"), 0o600); err != nil {
		f.Fatal(err)
	}
	fz.journals = []string{jpath, notJournal, dir, filepath.Join(dir, "missing.db"), "", " "}
	fz.id = testengine.Run(f, "--pids-limit", "64", "--memory", "128m", testengine.BusyboxImage,
		"sh", "-c", "while true; do echo tick; echo err >&2; sleep 0.5; done")

	// A TCP server that echoes what it reads, and an HTTP server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.Copy(c, io.LimitReader(c, 1<<20))
			}()
		}
	}()
	fz.addr = l.Addr().String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s\n", r.URL.Path)
	}))
	f.Cleanup(srv.Close)
	fz.url = srv.URL
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	fz.closed = cl.Addr().String()
	cl.Close()

	// Every function of a state must be listed.
	L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: io.Discard, DockerHost: host})
	defer L.Close()
	known := map[string]bool{}
	for _, tg := range fz.targets {
		known[tg.name] = true
	}
	var missing []string
	for _, name := range stateFunctions(L) {
		if !known[name] && notFuzzed[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		f.Fatalf("the fuzz does not know %v: add them to fuzzTargets (deciding how to drive them without harm) or notFuzzed", missing)
	}
	return fz
}

// stateFunctions lists the module functions, ctrsh's globals and the
// methods of every userdata type of L, by the names their errors use.
func stateFunctions(L *lua.LState) []string {
	var names []string
	for _, mod := range luax.Modules(L) {
		if tbl, ok := L.GetGlobal(mod).(*lua.LTable); ok {
			tbl.ForEach(func(k, v lua.LValue) {
				if _, ok := v.(*lua.LFunction); ok {
					names = append(names, mod+"."+k.String())
				}
			})
		}
	}
	names = append(names, "print", "pp", "emit", "sleep", "now", "help", "fail", "mkdir", "playbook", "collectgarbage", "top", "progress")
	L.G.Registry.ForEach(func(_, v lua.LValue) {
		mt, ok := v.(*lua.LTable)
		if !ok {
			return
		}
		name, _ := mt.RawGetString("__name").(lua.LString)
		methods, ok := mt.RawGetString("__methods").(*lua.LTable)
		if !ok || !strings.HasPrefix(string(name), "ctrsh.") {
			return
		}
		methods.ForEach(func(k, _ lua.LValue) {
			names = append(names, strings.TrimPrefix(string(name), "ctrsh.")+":"+k.String())
		})
	})
	sort.Strings(names)
	return names
}

// fuzzSeeds are inputs that reach the cases the issue names and two plain
// calls of every target, laid out as call and value decode them.
func fuzzSeeds(fz *fuzzer) [][]byte {
	// call is: target, [self: non-zero for ours, for methods], argument
	// count, [the special arguments of its kind, one byte each], values.
	call := func(name string, nargs byte, rest ...byte) []byte {
		for i, tg := range fz.targets {
			if tg.name != name {
				continue
			}
			b := []byte{byte(i)}
			if strings.Contains(name, ":") {
				b = append(b, 1)
			}
			return append(append(b, nargs), rest...)
		}
		panic("no fuzz target " + name)
	}
	num := func(f float64) byte {
		for i, n := range fuzzNumbers {
			if n == f || math.IsNaN(n) && math.IsNaN(f) {
				return byte(i)
			}
		}
		panic(f)
	}
	var seeds [][]byte
	for _, tg := range fz.targets {
		seeds = append(seeds, call(tg.name, 0))
		switch tg.kind {
		case generic:
			// (1.5, {first option = -1})
			seeds = append(seeds, call(tg.name, 2, argNumber, num(1.5), argTable, 1, 0, argNumber, num(-1)))
		case nsTarget:
			seeds = append(seeds, call(tg.name, 3, 2, 0, argTable, 1, 0, argString, 0))
		default:
			seeds = append(seeds, call(tg.name, 2, 0, argTable, 1, 0, argNumber, num(-1)))
		}
	}
	seeds = append(seeds,
		call("Conn:read", 1, argNumber, num(-1)),
		call("Conn:read", 1, argNumber, num(1e300)),
		call("Container:logs", 1, argTable, 1, 0, argNumber, num(1.5)),                // {tail = 1.5}
		call("Container:logs", 1, argTable, 2, 3*4, argBool, 1, 0, argNumber, num(1)), // {follow = true, tail = 1}
		call("Container:kill", 1, argNumber, num(1.5)),
		call("events.stream", 1, argTable, 1, 1*4, argNumber, num(math.NaN())), // {since = nan}
	)
	return seeds
}

// Argument kinds in the input.
const (
	argNil = iota
	argBool
	argNumber
	argRawNumber
	argString
	argRawString
	argTable
	argFunction
	argSelf
	argKinds
)

var fuzzNumbers = []float64{0, -1, 1, 1.5, -0.5, 2, 9, 15, 64, 65, 100, 1e3, 1 << 31, 1 << 53, 1 << 63, 1e300, -1e300,
	math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, 0.001, 2543}

var fuzzStrings = []string{"", "x", "KILL", "SIGTERM", "9", "0", "-1", "1.5", "10m", "1h30m", "-5m", "2026-12-01T00:00:00Z",
	"*l", "*a", "l", "a", "n", "{}", "[1,2", `{"a":1}`, "null", "net", "pid", "mnt", "uts", "ipc", "user", "cgroup", "time",
	"bogus", "/", "/tmp", "/docker", "..", "../../..", "root", "nobody", "0:0", "a=b", "A=1", "%", "[", "(", "^tick$",
	"label=ctrsh.test", "container", "running", "exec", "exit", "oom", "connect", "open", "\x00", "\xff\xfe", strings.Repeat("y", 300)}

var fuzzFunctions = []string{"function() return false end", "function() error('fuzz') end", "function() end",
	"function(ev) return ev.nope.x end", "function() return true end"}

type decoder struct{ b []byte }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) done() bool { return len(d.b) == 0 }

// run makes a fresh state and the values it may call methods on, then makes
// up to four calls as data says.
func (fz *fuzzer) run(t *testing.T, data []byte) {
	L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: io.Discard, Stdin: strings.NewReader(""), DockerHost: testengine.Endpoint()})
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	L.SetContext(ctx)
	// A stop or kill that an earlier input asked for may still be under way
	// in the engine (the call's statement ended, the engine's work did not)
	// and stop the container again after it was started.
	var selves map[string]lua.LValue
	var err error
	for try := 0; try < 20; try++ {
		if selves, err = fz.selves(L); err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("setting up: %v", err)
	}
	d := &decoder{b: data}
	for calls := 0; calls < 4 && !d.done(); calls++ {
		tg := fz.targets[int(d.byte())%len(fz.targets)]
		fn, args := fz.call(L, d, tg, selves)
		fz.invoke(t, L, tg.name, fn, args)
	}
}

// selves makes the values methods are called on: the container (running
// again if a call stopped it), its init, its cgroup, ctrsh's own process,
// and a connection to our TCP server.
func (fz *fuzzer) selves(L *lua.LState) (map[string]lua.LValue, error) {
	err := L.DoString(fmt.Sprintf(`
		local c = assert(docker.container(%q))
		if c.state == "paused" then assert(c:unpause()) end
		if c.state ~= "running" and c.state ~= "paused" then assert(c:start()) end
		assert(c:refresh())
		_fuzz = {Container = c, Cgroup = assert(c:cgroup()), Conn = assert(net.dial(%q)),
			Process = (c.pid > 0 and proc.get(c.pid)) or proc.self(), Self = proc.self(), Stream = io.stdout,
			Journal = assert(journal.open(journal.path()))}
	`, fz.id, fz.addr))
	if err != nil {
		return nil, err
	}
	out := map[string]lua.LValue{}
	L.GetGlobal("_fuzz").(*lua.LTable).ForEach(func(k, v lua.LValue) { out[k.String()] = v })
	L.SetGlobal("_fuzz", lua.LNil)
	return out, nil
}

// call builds the function and arguments of one call of tg.
func (fz *fuzzer) call(L *lua.LState, d *decoder, tg fuzzTarget, selves map[string]lua.LValue) (*lua.LFunction, []lua.LValue) {
	var fn lua.LValue
	var args []lua.LValue
	if typ, method, ok := strings.Cut(tg.name, ":"); ok {
		self := selves[typ]
		if d.byte()%16 == 0 {
			self = fz.value(L, d, tg, selves, 0) // a bad self (or one of ours)
		}
		fn = luax.Method(selves[typ], method)
		args = append(args, self)
	} else {
		mod, name, ok := strings.Cut(tg.name, ".")
		if ok {
			fn = L.GetGlobal(mod).(*lua.LTable).RawGetString(name)
		} else {
			fn = L.GetGlobal(tg.name)
		}
	}
	n := int(d.byte() % 5)
	switch tg.kind {
	case cmdArgs:
		args = append(args, fz.command(d))
		n--
	case chunkArgs:
		args = append(args, lua.LString(fuzzChunks[int(d.byte())%len(fuzzChunks)]))
		n--
	case nsTarget:
		args = append(args, fz.nsTarget(L, d, selves))
		if tg.name == "ns.run" {
			args = append(args, lua.LString(fuzzChunks[int(d.byte())%len(fuzzChunks)]))
		} else {
			args = append(args, fz.command(d))
		}
		n -= 2
	case dialArgs:
		args = append(args, lua.LString([]string{fz.addr, fz.closed, "", "nonsense", "127.0.0.1:0", "[::1]:1", "127.0.0.1"}[int(d.byte())%7]))
		n--
	case journalPath:
		args = append(args, lua.LString(fz.journals[int(d.byte())%len(fz.journals)]))
		n--
	case urlArgs:
		args = append(args, lua.LString([]string{fz.url + "/", fz.url + "/x?y=1", "http://" + fz.closed + "/", "", "ftp://127.0.0.1/",
			"http://127.0.0.1:0/", "%zz", fz.url}[int(d.byte())%8]))
		n--
	}
	for i := 0; i < n; i++ {
		args = append(args, fz.value(L, d, tg, selves, 0))
	}
	f, _ := fn.(*lua.LFunction)
	return f, args
}

// command is a harmless command for c:exec, c:enter and ns.enter, or a
// value of another type.
func (fz *fuzzer) command(d *decoder) lua.LValue {
	switch c := d.byte(); c % 4 {
	case 0:
		t := &lua.LTable{}
		for _, w := range strings.Fields(fuzzCommands[int(c/4)%len(fuzzCommands)]) {
			t.Append(lua.LString(w))
		}
		return t
	case 1:
		return lua.LNumber(42)
	default:
		return lua.LString(fuzzCommands[int(c/4)%len(fuzzCommands)])
	}
}

// nsTarget is a target for ns.enter and ns.run: our container, by id, name
// or PID, or something that is not a PID at all, never another process.
func (fz *fuzzer) nsTarget(L *lua.LState, d *decoder, selves map[string]lua.LValue) lua.LValue {
	c := selves["Container"].(*lua.LUserData)
	// A PID read now: an earlier call may have restarted the container,
	// and its old PID may be another process's by now.
	if err := L.CallByParam(lua.P{Fn: luax.Method(c, "refresh"), Protect: true}, c); err != nil {
		return lua.LNumber(0)
	}
	pid := L.GetField(c, "pid")
	switch d.byte() % 10 {
	case 0:
		return lua.LString(fz.id)
	case 1:
		return L.GetField(c, "name")
	case 2:
		return pid
	case 3:
		return lua.LString(pid.String())
	case 4:
		return lua.LNumber(0)
	case 5:
		return lua.LNumber(-1)
	case 6:
		return lua.LNumber(1.5)
	case 7:
		return lua.LNumber(math.NaN())
	case 8:
		return lua.LString("ctrsh-fuzz-no-such-container")
	default:
		return &lua.LTable{}
	}
}

// value is one generated argument.
func (fz *fuzzer) value(L *lua.LState, d *decoder, tg fuzzTarget, selves map[string]lua.LValue, depth int) lua.LValue {
	kind := d.byte() % argKinds
	if depth > 2 && kind == argTable {
		kind = argNumber
	}
	switch kind {
	case argNil:
		return lua.LNil
	case argBool:
		return lua.LBool(d.byte()%2 == 1)
	case argNumber:
		return lua.LNumber(fuzzNumbers[int(d.byte())%len(fuzzNumbers)])
	case argRawNumber:
		var b [8]byte
		for i := range b {
			b[i] = d.byte()
		}
		return lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(b[:])))
	case argString:
		return lua.LString(fuzzStrings[int(d.byte())%len(fuzzStrings)])
	case argRawString:
		n := int(d.byte() % 32)
		b := make([]byte, 0, n)
		for i := 0; i < n; i++ {
			b = append(b, d.byte())
		}
		return lua.LString(b)
	case argTable:
		t := L.NewTable()
		n := int(d.byte() % 5)
		for i := 0; i < n; i++ {
			var k lua.LValue
			switch c := d.byte(); {
			case c%4 == 3:
				k = lua.LNumber(i + 1)
			case len(tg.opts) > 0 && c%4 != 2:
				k = lua.LString(tg.opts[int(c/4)%len(tg.opts)])
			default:
				k = fz.value(L, d, tg, selves, depth+1)
			}
			if k == lua.LNil || k.String() == "allow_host" {
				continue
			}
			if n, ok := k.(lua.LNumber); ok && math.IsNaN(float64(n)) {
				continue
			}
			t.RawSet(k, fz.value(L, d, tg, selves, depth+1))
		}
		return t
	case argFunction:
		fn, err := L.LoadString("return " + fuzzFunctions[int(d.byte())%len(fuzzFunctions)])
		if err != nil {
			panic(err)
		}
		L.Push(fn)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		return v
	default: // one of our own values (of any type)
		keys := []string{"Container", "Cgroup", "Conn", "Process", "Self", "Stream", "Journal"}
		return selves[keys[int(d.byte())%len(keys)]]
	}
}

// invoke calls fn under a statement of its own that ends after half a second,
// calls an iterator it returns once, and fails the test on a Go panic, on
// a call that does not return after its statement ended, and on an
// argument error that does not name its function.
func (fz *fuzzer) invoke(t *testing.T, L *lua.LState, name string, fn *lua.LFunction, args []lua.LValue) {
	parent := L.Context()
	ctx, cancel := context.WithTimeout(parent, 500*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	defer L.SetContext(parent)
	hung := time.AfterFunc(30*time.Second, func() {
		panic(fmt.Sprintf("%s(%v) did not return 29 s after its statement ended", name, args))
	})
	defer hung.Stop()
	top := L.GetTop()
	err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...)
	fz.check(t, name, args, err)
	if err == nil && L.GetTop() > top {
		if it, ok := L.Get(top + 1).(*lua.LFunction); ok {
			err := L.CallByParam(lua.P{Fn: it, NRet: 1, Protect: true})
			fz.check(t, name+" iterator", args, err)
		}
	}
	L.SetTop(top)
}

func (fz *fuzzer) check(t *testing.T, name string, args []lua.LValue, err error) {
	t.Helper()
	apiErr, ok := err.(*lua.ApiError)
	if err == nil || !ok {
		if err != nil {
			t.Fatalf("%s(%v): %v", name, args, err)
		}
		return
	}
	if apiErr.Type == lua.ApiErrorPanic {
		t.Fatalf("%s(%v): a Go panic (exit 70): %v\n%s", name, args, apiErr.Object, apiErr.StackTrace)
	}
	msg := apiErr.Object.String()
	if strings.Contains(msg, "bad argument") || strings.Contains(msg, "bad self") {
		if !strings.Contains(msg, " '") || strings.Contains(msg, "(anonymous)") {
			t.Fatalf("%s(%v): an argument error that does not name its function: %s", name, args, msg)
		}
	}
}
