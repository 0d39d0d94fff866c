-- pcall and xpcall keep upvalues as Lua 5.1 does (gopher-lua issue #448:
-- a caught error used to close the upvalues of every frame of the state).

-- The first snippet of issue 11: writes to an upvalue after a caught error.
function TestPcallKeepsUpvalueWrites()
  local n = 0
  local function try(f, ...) n = n + 1; return pcall(f, ...) end
  try(error, "x"); try(error, "y"); try(error, "z")
  assert.eq(n, 3)
end

-- The second snippet: a variable assigned after a failed pcall, read by a
-- closure made before it.
function TestPcallKeepsLaterAssignments()
  local a
  local function use() return a("ok") end
  pcall(function() error("boom") end)
  a = function(s) return s end
  assert.eq(use(), "ok")
end

-- A closure that escapes a failed function keeps its own variable, not the
-- register that later code reuses.
function TestPcallEscapedClosureKeepsItsVariable()
  local get
  local ok = pcall(function()
    local mine = "mine"
    get = function() return mine end
    error("after the closure escaped")
  end)
  assert.falsy(ok)
  local x1, x2, x3, x4 = "other", "other", "other", "other"
  assert.eq(get(), "mine")
  assert.eq(x1 .. x2 .. x3 .. x4, "otherotherotherother")
end

function TestXpcallKeepsUpvalues()
  local n = 0
  local function try(f) n = n + 1; return xpcall(f, function(m) return "handled: " .. tostring(m) end) end
  local ok, msg = try(function() error("x", 0) end)
  assert.falsy(ok)
  assert.eq(msg, "handled: x")
  try(function() error("y") end); try(function() error("z") end)
  assert.eq(n, 3)

  local a
  local function use() return a("ok") end
  xpcall(function() error("boom") end, function(m) return m end)
  a = function(s) return s end
  assert.eq(use(), "ok")

  local get
  xpcall(function()
    local mine = "mine"
    get = function() return mine end
    error("boom")
  end, function(m) return m end)
  local x1, x2, x3 = "other", "other", "other"
  assert.eq(get(), "mine")
end

-- Lua 5.2's xpcall passes its extra arguments on.
function TestXpcallPassesArguments()
  assert.eq({xpcall(function(a, b) return a + b end, print, 1, 2)}, {true, 3})
end

function TestPcallNestedInXpcall()
  local n = 0
  local get
  local ok, msg = xpcall(function()
    local function bump() n = n + 1 end
    for i = 1, 3 do pcall(error, i); bump() end
    local mine = "mine"
    get = function() return mine end
    error("outer", 0)
  end, function(m) return "h:" .. m end)
  assert.eq({ok, msg, n, get()}, {false, "h:outer", 3, "mine"})
end

function TestPcallResults()
  assert.eq({pcall(function(...) return ... end, 1, nil, 3)}, {true, 1, nil, 3})
  assert.eq(select("#", pcall(function() end)), 1)
  assert.eq({pcall(nil)}, {false, "attempt to call a nil value"})
  local callable = setmetatable({}, {__call = function(self, x) return x * 2 end})
  assert.eq({pcall(callable, 21)}, {true, 42})
  assert.error_matches(function() pcall() end, "bad argument #1 to '?pcall'?")
end

-- Error objects pass through unchanged: tables keep their identity.
function TestPcallErrorObjects()
  local e = {code = 42}
  local ok, got = pcall(error, e)
  assert.falsy(ok)
  assert.truthy(got == e)
  ok, got = xpcall(function() error(e) end, function(x) return x end)
  assert.truthy(got == e)
  assert.eq({pcall(error, 7)}, {false, 7})
  assert.eq({pcall(error, "plain", 0)}, {false, "plain"})
  -- Levels count from where error was called, as in Lua 5.1.
  local function raise() error("at the caller", 2) end
  local function caller() raise() end -- this line is in the message
  local _, msg = pcall(caller)
  assert.matches(msg, "pcall_test.lua:%d+: at the caller")
  -- A Go function called by pcall itself: the position is the line of the
  -- pcall, as with gopher-lua's own pcall (Lua 5.1 gives none).
  local line = debug.getinfo(1, "l").currentline
  assert.matches(select(2, pcall(string.rep)), "^[^ ]*pcall_test.lua:" .. line + 1 .. ": bad argument #1 to")
  assert.matches(select(2, pcall(error, "two up", 2)), "^[^ ]*pcall_test.lua:" .. line + 2 .. ": two up$")
  assert.matches(select(3, pcall(pcall, error, "nested")), "^[^ ]*pcall_test.lua:" .. line + 3 .. ": nested$")
end

-- A failure in the handler comes back as the error.
function TestXpcallHandlerError()
  local ok, msg = xpcall(function() error("first") end, function() error("in handler", 0) end)
  assert.eq({ok, msg}, {false, "in handler"})
end

-- debug.traceback in a handler shows the frames below xpcall too.
function TestXpcallTracebackReachesTheCaller()
  local function inner() error("deep") end
  local line = debug.getinfo(1, "l").currentline + 1
  local ok, tb = xpcall(function() inner() end, debug.traceback)
  assert.falsy(ok)
  local want = table.concat({
    "pcall_test.lua:" .. line - 2 .. ": deep",
    "stack traceback:",
    "\t%[G%]: in function 'error'",
    "\t[^\n]*pcall_test.lua:" .. line - 2 .. ": in function 'inner'",
    "\t[^\n]*pcall_test.lua:" .. line .. ": in function <[^\n]*pcall_test.lua:" .. line .. ">",
    "\t%[G%]: in function 'xpcall'",
    -- This test function, which luatest called from Go.
    "\t[^\n]*pcall_test.lua:" .. line .. ": in function <[^\n]*pcall_test.lua:%d+>",
    "\t%[G%]: %?$",
  }, "\n")
  assert.matches(tb, want)
  -- From inside nested pcalls: every level down to the test function.
  line = debug.getinfo(1, "l").currentline + 1
  local _, inner = pcall(function() return select(2, pcall(debug.traceback, "here")) end)
  want = table.concat({
    "here",
    "stack traceback:",
    "\t%[G%]: in function 'pcall'",
    "\t[^\n]*pcall_test.lua:" .. line .. ": in function <[^\n]*pcall_test.lua:" .. line .. ">",
    "\t%[G%]: in function 'pcall'",
    "\t[^\n]*pcall_test.lua:" .. line .. ": in function <[^\n]*pcall_test.lua:%d+>",
    "\t%[G%]: %?$",
  }, "\n")
  assert.matches(inner, want)
end

function TestPcallInsideCoroutine()
  local n = 0
  local co = coroutine.create(function(a)
    local function try() n = n + 1; return pcall(error, "x") end
    try(); try()
    local b = coroutine.yield(a + 1)
    try()
    assert.eq(coroutine.running(), co_self)
    return b * 2, n
  end)
  co_self = co
  assert.eq({coroutine.resume(co, 1)}, {true, 2})
  assert.eq({coroutine.resume(co, 21)}, {true, 42, 3})
  assert.eq(coroutine.status(co), "dead")
  co_self = nil
end

-- Lua 5.1 cannot yield across pcall; the error says so and the coroutine
-- goes on.
function TestYieldAcrossPcallIsAnError()
  local co = coroutine.create(function()
    local ok, err = pcall(coroutine.yield, 1)
    coroutine.yield(ok, err)
    return "end"
  end)
  local ok, inner_ok, inner_err = coroutine.resume(co)
  assert.eq({ok, inner_ok}, {true, false})
  assert.matches(inner_err, "yield across")
  assert.eq({coroutine.resume(co)}, {true, "end"})
end

function TestCoroutineStateInsidePcall()
  -- In the main thread, running() is nil even inside a pcall.
  assert.eq({pcall(coroutine.running)}, {true, nil})
  local co
  co = coroutine.create(function()
    local ok, me = pcall(coroutine.running)
    assert.truthy(me == co)
    assert.eq(select(2, pcall(coroutine.status, co)), "running")
    -- A generator resumed inside the pcall: after it, this coroutine is
    -- still the running one.
    pcall(function()
      for _ in coroutine.wrap(function() coroutine.yield(1) coroutine.yield(2) end) do end
      assert.truthy(coroutine.running() == co)
      assert.eq(coroutine.status(co), "running")
      assert.eq({coroutine.resume(co)}, {false, "can not resume a running thread"})
    end)
    assert.truthy(coroutine.running() == co)
    return "done"
  end)
  assert.eq({coroutine.resume(co)}, {true, "done"})
  assert.is_nil(coroutine.running())
end

-- An error in a coroutine.wrap generator inside pcall keeps closures made
-- before it.
function TestWrapErrorInsidePcall()
  local get
  local ok, msg = pcall(function()
    local mine = "mine"
    get = function() return mine end
    coroutine.wrap(function() error("gen failed", 0) end)()
  end)
  local x1, x2 = "other", "other"
  assert.eq({ok, msg, get()}, {false, "gen failed", "mine"})
  local gen = coroutine.wrap(function() return 1 end)
  gen()
  assert.error_matches(gen, "can not resume a dead thread")
end

-- pcall nested without bound ends in an error, not a crash.
function TestPcallRecursionIsBounded()
  local depth = 0
  local function down()
    depth = depth + 1
    local ok, err = pcall(down)
    if not ok then error(err, 0) end
  end
  local ok, err = pcall(down)
  assert.falsy(ok)
  assert.matches(err, "stack overflow")
  assert.gt(depth, 100)
end

-- Go calls Lua in protected mode too: a __tostring that fails inside print
-- leaves the printing function's upvalues alone.
function TestFailingTostringKeepsUpvalues()
  local n = 0
  local function bump() n = n + 1 end
  local bad = setmetatable({}, {__tostring = function() error("no string for you") end})
  bump(); print(bad); bump(); print(bad); bump()
  assert.eq(n, 3)
end

-- The snippets of issue 11 in a test function, the way luatest calls it
-- (from Go, in protected mode), with no pcall of their own around them.
function TestIssueSnippets()
  local out = {}
  local n = 0
  local function try(f, ...) n = n + 1; return pcall(f, ...) end
  try(error, "x"); try(error, "y"); try(error, "z")
  out[#out + 1] = n
  local a
  local function use() return a("ok") end
  pcall(function() error("boom") end)
  a = function(s) return s end
  out[#out + 1] = use()
  assert.eq(out, {3, "ok"})
end

-- Stack overflow inside pcall is an error pcall catches, and the state goes
-- on; so is a Go panic in a builtin (the test hook is in test builds only).
function TestPcallCatchesStackOverflow()
  local function f() return 1 + f() end
  local ok, err = pcall(f)
  assert.falsy(ok)
  assert.matches(err, "overflow")
  local n = 0
  for i = 1, 3 do pcall(f); n = n + 1 end
  assert.eq(n, 3)
  assert.eq({pcall(function() return "fine" end)}, {true, "fine"})
end

-- A function that escaped a failed call keeps its variable however the
-- error was raised, and the next calls (on the same reused thread) do not
-- disturb it.
function TestEscapedClosuresAcrossErrorKinds()
  local got = {}
  local raisers = {
    function() error("plain") end,
    function() error({}) end,
    function() local t = nil; return t.x end,
    function() return ("x"):rep({}) end,
    function() coroutine.wrap(function() error("in wrap") end)() end,
    function() local function f() return 1 + f() end f() end,
  }
  for i, raise in ipairs(raisers) do
    pcall(function()
      local mine = "mine" .. i
      got[i] = function() return mine end
      raise()
    end)
    pcall(function() local a, b, c, d, e = 1, 2, 3, 4, 5 end)
    xpcall(function() local a, b, c, d, e = 1, 2, 3, 4, 5; error("x") end, print)
  end
  for i = 1, #raisers do assert.eq(got[i](), "mine" .. i) end
end
