-- assert: the assertion module of Lua tests. assert(v, msg) still works as
-- Lua's own assert; assert.eq and friends raise errors located at the caller.
local builtin_assert = assert
local M = {}

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then
    local ok, s = pcall(json.encode, v)
    if ok then return s end
  end
  return tostring(v)
end

local function deep_eq(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_eq(v, b[k], seen) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.deep_eq = deep_eq

-- fail raises at the line of the test that called the assertion. gopher-lua
-- counts error levels one further than Lua 5.1 (level 4 here is the caller
-- of assert.eq), which TestAssertModuleReportsLocation pins down.
local function fail(msg, extra)
  if extra then msg = extra .. ": " .. msg end
  error(msg, 4)
end

function M.eq(got, want, msg)
  if not deep_eq(got, want) then fail("got " .. show(got) .. ", want " .. show(want), msg) end
end

function M.ne(got, unwanted, msg)
  if deep_eq(got, unwanted) then fail("got " .. show(got) .. ", want anything else", msg) end
end

function M.truthy(v, msg)
  if not v then fail("got " .. show(v) .. ", want a true value", msg) end
  return v
end

function M.falsy(v, msg)
  if v then fail("got " .. show(v) .. ", want false or nil", msg) end
end

function M.is_nil(v, msg)
  if v ~= nil then fail("got " .. show(v) .. ", want nil", msg) end
end

function M.type(v, want, msg)
  if type(v) ~= want then fail("got " .. type(v) .. " " .. show(v) .. ", want a " .. want, msg) end
end

function M.gt(a, b, msg)
  if not (a > b) then fail("got " .. show(a) .. ", want more than " .. show(b), msg) end
end

function M.ge(a, b, msg)
  if not (a >= b) then fail("got " .. show(a) .. ", want at least " .. show(b), msg) end
end

function M.lt(a, b, msg)
  if not (a < b) then fail("got " .. show(a) .. ", want less than " .. show(b), msg) end
end

-- matches(s, pattern): s matches the Lua pattern.
function M.matches(s, pattern, msg)
  if type(s) ~= "string" or not s:find(pattern) then
    fail("got " .. show(s) .. ", want a match for " .. show(pattern), msg)
  end
end

-- contains(t, x): the array t holds x, or the string t contains x (plain).
function M.contains(t, x, msg)
  if type(t) == "string" then
    if not t:find(x, 1, true) then fail(show(t) .. " does not contain " .. show(x), msg) end
    return
  end
  if type(t) ~= "table" then fail("got " .. show(t) .. ", want a table or string", msg) end
  for _, v in ipairs(t) do
    if deep_eq(v, x) then return end
  end
  fail(show(t) .. " does not contain " .. show(x), msg)
end

-- error_matches(fn, pattern, ...): fn(...) raises an error whose message
-- matches the Lua pattern.
function M.error_matches(fn, pattern, ...)
  local ok, err = pcall(fn, ...)
  if ok then fail("no error raised, want one matching " .. show(pattern)) end
  local s = tostring(err)
  if not s:find(pattern) then fail("error " .. show(s) .. " does not match " .. show(pattern)) end
  return s
end

-- fails(msg_pattern, v, err): the nil, message form of a runtime failure.
function M.fails(pattern, v, err)
  if v ~= nil then fail("got " .. show(v) .. ", want nil and a message matching " .. show(pattern)) end
  if type(err) ~= "string" or not err:find(pattern) then
    fail("message " .. show(err) .. " does not match " .. show(pattern))
  end
  return err
end

return setmetatable(M, {__call = function(_, ...) return builtin_assert(...) end})
