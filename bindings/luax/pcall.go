package luax

// Protected calls, and gopher-lua issue #448.
//
// In gopher-lua v1.1.2 an error caught by a protected call leaves upvalues
// as Lua 5.1 never would (https://github.com/yuin/gopher-lua/issues/448,
// open since 2023). With no error handler, raiseError closes the open
// upvalues of every frame of the state, down to the main chunk: the frames
// below the pcall, which go on running, lose the link between their local
// variables and the closures that share them (a closure's `n = n + 1` no
// longer reaches the caller's n; a local assigned after the pcall is not
// seen by a closure made before it). With a handler (xpcall) it closes none,
// not even those of the frames that failed, and neither does an error that
// is not raised by raiseError (a Go panic in a builtin, a Lua stack
// overflow): a closure that escaped a failed function keeps pointing at a
// register that is cleared, or that the next call overwrites.
//
// The workaround: every protected call runs its function on a thread of its
// own, an LState made by L.NewThread that shares the globals and the
// registry. The caller's frames are on the caller's thread, where nothing
// touches them; on the call's thread, the frames that raiseError closes are
// exactly those the error unwinds, which is what Lua 5.1 closes. The call's
// bottom frame is a Go function of ctrsh's (trampoline) that recovers
// whatever the call raises before gopher-lua unwinds it, with every failed
// frame still in place: it runs xpcall's handler there, closes what was
// left open (raising again with no handler set is what makes gopher-lua
// close upvalues), and passes the error on unchanged. Every call's thread
// is then left with nothing open, and is reused: a pcall costs a few
// hundred nanoseconds more than stock's, whether it fails or not.
//
// The rest of this file keeps what a thread of its own would otherwise
// change visible to Lua: coroutine.running/status/resume/wrap see the
// coroutine that made the call, yield inside pcall fails as in Lua 5.1
// ("attempt to yield across metamethod/C-call boundary") instead of
// switching threads, debug.traceback and error tracebacks show the frames
// as they would be on one thread, and nesting is bounded as Lua 5.1 bounds
// C calls (200), since each level has a fresh Lua stack of its own.
//
// When gopher-lua fixes #448: make PCall call L.PCall (with handler), drop
// the overrides OpenProtected installs, and delete the rest of this file;
// callers need not change.

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// MaxProtectedDepth bounds how deeply protected calls nest in one state,
// as LUAI_MAXCCALLS bounds C calls in Lua 5.1.
const MaxProtectedDepth = 200

// threadRegistrySize is the initial data stack of a call's thread; it
// grows up to the state's own limit (most calls need a few dozen slots).
const threadRegistrySize = 256

// maxFreeThreads bounds the threads kept for reuse (one per nesting level
// in use at once).
const maxFreeThreads = 8

const protectedKey = "ctrsh.protected"

// protected is the per-state (per lua.Global) bookkeeping of protected calls.
type protected struct {
	trampoline *lua.LFunction
	free       []*lua.LState
	active     []activeCall // the calls running now, innermost last
}

type activeCall struct {
	thread, caller *lua.LState
	handler        *lua.LFunction // xpcall's, or nil
	chunk          string         // the source name when the function is a main chunk
	noTrace        bool           // the caller drops the error's traceback
}

func protectedOf(L *lua.LState) *protected {
	if ud, ok := L.G.Registry.RawGetString(protectedKey).(*lua.LUserData); ok {
		if p, ok := ud.Value.(*protected); ok {
			return p
		}
	}
	p := &protected{}
	p.trampoline = L.NewFunction(p.bottom)
	ud := L.NewUserData()
	ud.Value = p
	L.G.Registry.RawSetString(protectedKey, ud)
	return p
}

// thread returns a thread for a call from L: a free one, or a new one
// whose stacks start small and grow to the limits of L's.
func (p *protected) thread(L *lua.LState) *lua.LState {
	var th *lua.LState
	if n := len(p.free); n > 0 {
		th = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		saved := L.Options
		opts := saved
		opts.RegistrySize = threadRegistrySize
		opts.RegistryMaxSize = max(saved.RegistryMaxSize, saved.RegistrySize, threadRegistrySize)
		opts.RegistryGrowStep = threadRegistrySize
		opts.MinimizeStackMemory = true
		// NewThread copies L's options; a thread of its own starts small.
		L.Options = opts
		var cancel func()
		th, cancel = L.NewThread()
		L.Options = saved
		if cancel != nil {
			cancel() // the thread takes the caller's own context below
		}
	}
	// The call runs under the caller's context (Ctrl-C, --timeout, the
	// statement a stream belongs to) and environment.
	if ctx := L.Context(); ctx != nil {
		th.SetContext(ctx)
	} else {
		th.RemoveContext()
	}
	th.Env = L.Env
	return th
}

// callOn returns the protected call running on thread L, or nil.
func (p *protected) callOn(L *lua.LState) *activeCall {
	for i := len(p.active) - 1; i >= 0; i-- {
		if p.active[i].thread == L {
			return &p.active[i]
		}
	}
	return nil
}

// PCall is ctrsh's L.PCall, with the same contract: it calls the function
// below the nargs arguments on top of L's stack in protected mode. On
// success the function and arguments are replaced by nret results (all of
// them with lua.MultRet); on error they are removed and the error, a
// *lua.ApiError, is returned (with a handler, its Object is the handler's
// result). Unlike L.PCall it leaves upvalues as Lua 5.1 does (see the top
// of this file). Every protected call ctrsh makes, from Lua or from Go,
// goes through it.
func PCall(L *lua.LState, nargs, nret int, handler *lua.LFunction) error {
	return protectedCall(L, nargs, nret, handler, false)
}

// protectedCall is PCall; noTrace saves building the error's traceback,
// which pcall and xpcall drop.
func protectedCall(L *lua.LState, nargs, nret int, handler *lua.LFunction, noTrace bool) error {
	p := protectedOf(L)
	if len(p.active) >= MaxProtectedDepth {
		L.Pop(nargs + 1)
		return &lua.ApiError{Type: lua.ApiErrorRun, Object: lua.LString("stack overflow (protected calls nested too deeply)")}
	}
	call := activeCall{caller: L, handler: handler, noTrace: noTrace}
	if fn, ok := L.Get(-nargs - 1).(*lua.LFunction); ok && !fn.IsG && fn.Proto.LineDefined == 0 {
		call.chunk = fn.Proto.SourceName
	}
	th := p.thread(L)
	call.thread = th
	th.Push(p.trampoline)
	L.XMoveTo(th, nargs+1)
	current := L.G.CurrentThread
	p.active = append(p.active, call)
	defer func() {
		p.active = p.active[:len(p.active)-1]
		L.G.CurrentThread = current
	}()
	err := th.PCall(nargs+1, nret, nil)
	if th.Env != L.Env { // setfenv(0, t) inside changed the running thread's globals
		L.Env = th.Env
	}
	if len(p.free) < maxFreeThreads {
		p.free = append(p.free, th) // bottom left nothing open
	}
	if err == nil {
		th.XMoveTo(L, th.GetTop())
		return nil
	}
	ae, ok := err.(*lua.ApiError)
	if !ok {
		return err
	}
	if ae.Type == lua.ApiErrorPanic && ae.Object == lua.LString("lua callstack overflow") {
		// gopher-lua's stack overflow is a Go panic; in Lua it is an error.
		ae.Type = lua.ApiErrorRun
	}
	ae.StackTrace = call.fixTrace(ae.StackTrace)
	return ae
}

// bottom is the bottom frame of every call's thread: it calls its first
// argument with the others and returns what that returns. Whatever the
// call raises, it recovers while the failed frames are still there: it
// runs the call's handler, if any, makes sure the upvalues of those frames
// are closed, and raises the error on.
func (p *protected) bottom(L *lua.LState) int {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		call := p.callOn(L)
		ae, ok := r.(*lua.ApiError)
		if !ok {
			ae = &lua.ApiError{Type: lua.ApiErrorPanic, Object: lua.LString(fmt.Sprint(r))}
		}
		if call != nil && call.handler != nil {
			obj := ae.Object
			res, failed := callHandler(L, call.handler, obj)
			if failed == nil {
				obj = res
			} else {
				obj = errorValue(failed)
			}
			ae = &lua.ApiError{Type: lua.ApiErrorRun, Object: obj}
		}
		closeUpvalues(L)
		if call != nil {
			ae.Object = p.fixWhere(L, call, ae.Object)
		}
		if call != nil && call.noTrace && ae.StackTrace == "" {
			ae.StackTrace = "stack traceback: (not kept)" // pcall drops it: do not build it
		}
		panic(ae)
	}()
	L.Call(L.GetTop()-1, lua.MultRet)
	return L.GetTop()
}

// fixWhere gives a message the position gopher-lua could not find on the
// call's thread. It prefixes a message raised at level 1 or more with the
// position of the first Lua function at or below that level, and a space;
// when only Go functions are on the thread (pcall(string.rep), pcall(error,
// msg, 2)) that function is on the caller's thread, gopher-lua found none
// and left " msg". The caller's position goes there, as with stock pcall.
func (p *protected) fixWhere(L *lua.LState, call *activeCall, obj lua.LValue) lua.LValue {
	s, ok := obj.(lua.LString)
	if !ok || !strings.HasPrefix(string(s), " ") || luaLevel(L) >= 0 {
		return obj
	}
	for c := call; c != nil; c = p.callOn(c.caller) {
		if level := luaLevel(c.caller); level >= 0 {
			return lua.LString(c.caller.Where(level) + string(s))
		}
	}
	return obj
}

// luaLevel is the level of the innermost Lua function running on L, or -1.
func luaLevel(L *lua.LState) int {
	for i := 0; ; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			return -1
		}
		if fn, err := L.GetInfo("f", dbg, lua.LNil); err == nil {
			if f, ok := fn.(*lua.LFunction); ok && !f.IsG {
				return i
			}
		}
	}
}

// errorValue is the Lua error value of what a call raised.
func errorValue(r any) lua.LValue {
	if ae, ok := r.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(fmt.Sprint(r))
}

// callHandler calls h(obj) above the failed frames and returns its result,
// or what it raised.
func callHandler(L *lua.LState, h *lua.LFunction, obj lua.LValue) (res lua.LValue, failed any) {
	defer func() {
		if r := recover(); r != nil {
			failed = r
		}
	}()
	L.Push(h)
	L.Push(obj)
	L.Call(1, 1)
	res = L.Get(-1)
	L.Pop(1)
	return res, nil
}

// closeUpvalues closes the upvalues of every frame of L. gopher-lua does
// that only while raising an error with no handler set, so it raises one
// and catches it at once.
func closeUpvalues(L *lua.LState) {
	defer func() { recover() }()
	L.Error(lua.LNil, 0)
}

// fixTrace shows a call's traceback as it would be on one thread: the
// bottom frame is left out, and a main chunk is called one.
func (c *activeCall) fixTrace(trace string) string {
	trace = strings.Replace(trace, "\n\t[G]: in main chunk\n\t[G]: ?", "\n\t[G]: ?", 1)
	if c.chunk != "" {
		as := "in function <" + c.chunk + ":0>"
		if i := strings.LastIndex(trace, as); i >= 0 {
			trace = trace[:i] + "in main chunk" + trace[i+len(as):]
		}
	}
	return trace
}

// CallByParam is L.CallByParam with cp.Protect going through PCall.
func CallByParam(L *lua.LState, cp lua.P, args ...lua.LValue) error {
	L.Push(cp.Fn)
	for _, a := range args {
		L.Push(a)
	}
	if cp.Protect {
		return PCall(L, len(args), cp.NRet, cp.Handler)
	}
	L.Call(len(args), cp.NRet)
	return nil
}

// DoString is L.DoString through PCall.
func DoString(L *lua.LState, src string) error {
	fn, err := LoadString(L, src)
	if err != nil {
		return err
	}
	L.Push(fn)
	return PCall(L, 0, lua.MultRet, nil)
}

// DoFile is L.DoFile through PCall.
func DoFile(L *lua.LState, path string) error {
	fn, err := LoadFile(L, path)
	if err != nil {
		return err
	}
	L.Push(fn)
	return PCall(L, 0, lua.MultRet, nil)
}

// OpenProtected replaces pcall and xpcall with ctrsh's, and adjusts what
// would see the threads they run on: coroutine.running, status, resume,
// wrap and yield, and debug.traceback. bindings.New calls it first.
func OpenProtected(L *lua.LState) {
	p := protectedOf(L)
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	g.RawSetString("pcall", L.NewFunction(basePCall))
	g.RawSetString("xpcall", L.NewFunction(baseXPCall))

	if co, ok := g.RawGetString("coroutine").(*lua.LTable); ok {
		stockCreate := gfunc(co, "create")
		stockResume := gfunc(co, "resume")
		stockYield := gfunc(co, "yield")
		if stockCreate != nil && stockResume != nil && stockYield != nil {
			co.RawSetString("running", L.NewFunction(coRunning))
			co.RawSetString("status", L.NewFunction(coStatus))
			co.RawSetString("resume", L.NewFunction(coResume(stockResume)))
			co.RawSetString("wrap", L.NewFunction(coWrap(stockCreate, co.RawGetString("resume"))))
			co.RawSetString("yield", L.NewFunction(coYield(p, stockYield)))
		}
	}
	if dbg, ok := g.RawGetString("debug").(*lua.LTable); ok {
		if tb, ok := dbg.RawGetString("traceback").(*lua.LFunction); ok {
			dbg.RawSetString("traceback", L.NewFunction(traceback(p, tb)))
		}
	}
}

func gfunc(t *lua.LTable, name string) lua.LGFunction {
	if f, ok := t.RawGetString(name).(*lua.LFunction); ok && f.IsG {
		return f.GFunction
	}
	return nil
}

// pcall lua pcall(f, ...) --> true, ... | false, err
func basePCall(L *lua.LState) int {
	L.CheckAny(1)
	v := L.Get(1)
	if v.Type() != lua.LTFunction && L.GetMetaField(v, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	if err := protectedCall(L, L.GetTop()-1, lua.MultRet, nil, true); err != nil {
		L.Push(lua.LFalse)
		L.Push(errorObject(err))
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// xpcall lua xpcall(f, handler, ...) --> true, ... | false, handler(err);
// the arguments after the handler go to f, as in Lua 5.2.
func baseXPCall(L *lua.LState) int {
	fn := L.CheckFunction(1)
	handler := L.CheckFunction(2)
	top := L.GetTop()
	L.Push(fn)
	for i := 3; i <= top; i++ {
		L.Push(L.Get(i))
	}
	if err := protectedCall(L, top-2, lua.MultRet, handler, true); err != nil {
		L.Push(lua.LFalse)
		L.Push(errorObject(err))
		return 2
	}
	L.Insert(lua.LTrue, top+1)
	return L.GetTop() - top
}

func errorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// coRunning is coroutine.running for the coroutine that made the call,
// whichever thread the call runs on: nil in the main thread.
func coRunning(L *lua.LState) int {
	if cur := L.G.CurrentThread; cur != L.G.MainThread {
		L.Push(cur)
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

// coStatus is coroutine.status as seen from the running coroutine.
func coStatus(L *lua.LState) int {
	th := L.CheckThread(1)
	L.Push(lua.LString(L.G.CurrentThread.Status(th)))
	return 1
}

// coResume is gopher-lua's coroutine.resume, after which the running
// coroutine is the one that resumed, not the thread of a protected call
// the resume was made from.
func coResume(stock lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		current := L.G.CurrentThread
		defer func() { L.G.CurrentThread = current }()
		return stock(L)
	}
}

// coWrap is coroutine.wrap on top of resume: an error in the coroutine is
// raised again in the caller with L.Error (gopher-lua's own wrap raises it
// in a way that closes no upvalue in the caller's frames).
func coWrap(stockCreate lua.LGFunction, resume lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		stockCreate(L)
		co := L.Get(-1).(*lua.LState)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			switch {
			case co.Dead:
				L.RaiseError("can not resume a dead thread")
			case L.G.CurrentThread == co:
				L.RaiseError("can not resume a running thread")
			}
			nargs := L.GetTop()
			L.Insert(co, 1)
			L.Insert(resume, 1)
			L.Call(nargs+1, lua.MultRet)
			if lua.LVIsFalse(L.Get(1)) {
				L.Error(L.Get(2), 0)
			}
			L.Remove(1)
			return L.GetTop()
		}))
		return 1
	}
}

// coYield is coroutine.yield, which fails inside a protected call as it
// does in Lua 5.1 (the call's thread is not the coroutine).
func coYield(p *protected, stock lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if p.callOn(L) != nil {
			L.RaiseError("attempt to yield across metamethod/C-call boundary")
		}
		return stock(L)
	}
}

// traceback is debug.traceback that, called inside a protected call, goes
// on below it into the frames of the caller, and of its caller, as Lua
// 5.1's does; ctrsh's own frames (the bottom of each call's thread) are
// left out.
func traceback(p *protected, stock *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if _, ok := L.Get(1).(*lua.LState); ok {
			return stock.GFunction(L)
		}
		call := p.callOn(L)
		if n := stock.GFunction(L); n != 1 || call == nil {
			return n
		}
		s, ok := L.Get(-1).(lua.LString)
		if !ok {
			return 1
		}
		text := string(s)
		for ; call != nil; call = p.callOn(call.caller) {
			text = strings.TrimSuffix(call.fixTrace(text), "\n\t[G]: ?")
			L.Push(stock)
			L.Push(call.caller)
			L.Push(lua.LNumber(0))
			L.Call(2, 1)
			_, frames, found := strings.Cut(L.Get(-1).String(), "stack traceback:\n")
			L.Pop(1)
			if !found {
				break
			}
			text += "\n" + frames
		}
		L.Pop(1)
		L.Push(lua.LString(text))
		return 1
	}
}
