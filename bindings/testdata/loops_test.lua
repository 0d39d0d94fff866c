-- Loops whose body starts with a jump, through every way a chunk is
-- compiled in a ctrsh state (luax/compile.go: gopher-lua's jump pass
-- miscompiles them; the issue's own `for l in c:logs{...} do break end`).

local loop = [[
  local function gen() local i = 0 return function() i = i + 1 if i < 5 then return i end end end
  local n = 0
  for i = 1, 120 do for l in gen() do break end; if i % 50 == 0 then n = n + 1 end end
  return n
]]

function TestLoopInThisFile()
  local function gen() local i = 0 return function() i = i + 1 if i < 5 then return i end end end
  local n = 0
  for i = 1, 120 do for l in gen() do break end; if i % 50 == 0 then n = n + 1 end end
  assert.eq(n, 2)
end

function TestLoopThroughLoadstring()
  assert.eq(assert(loadstring(loop))(), 2)
end

function TestLoopThroughLoadString()
  assert.eq(assert(load(loop, "=loop", "t"))(), 2)
end

function TestLoopThroughLoadPieces()
  local done = false
  local f = assert(load(function() if done then return nil end done = true return loop end))
  assert.eq(f(), 2)
end

function TestLoopThroughDofileAndLoadfile()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("#!/usr/bin/env ctrsh\n" .. loop)
  f:close()
  assert.eq(dofile(path), 2)
  assert.eq(assert(loadfile(path))(), 2)
  os.remove(path)
  local fn, err = loadfile(path)
  assert.eq(fn, nil)
  assert.matches(err, "can not open file")
end

function TestLoadReportsSyntaxErrors()
  local fn, err = loadstring("for x in do end", "=bad")
  assert.eq(fn, nil)
  assert.matches(err, "bad")
  assert.error_matches(function() dofile("/nonexistent/ctrsh-chunk.lua") end, "nonexistent")
end
