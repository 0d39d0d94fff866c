-- Tests of the globals every ctrsh state has.

function TestJSONRoundTrip()
  local v = {name = "web", pids = {1, 7, 42}, nested = {ok = true, ratio = 0.5}}
  local s = json.encode(v)
  assert.eq(json.decode(s), v)
  assert.eq(json.encode({1, 2, 3}), "[1,2,3]")
  assert.eq(json.encode({a = 1}), '{"a":1}')
end

function TestJSONDecodeBadInputIsAFailure()
  assert.fails("json.decode", json.decode("{nope"))
  assert.fails("trailing", json.decode("1 2"))
  assert.error_matches(function() json.decode() end, "bad argument #1 to .* %(string expected, got n[oi][l ]")
end

function TestNowIsUnixSeconds()
  local t = now()
  assert.gt(t, 1.7e9)
  assert.eq(math.floor(t) == t and "int" or "frac", "frac")
  assert.eq(os.time() - math.floor(t) <= 1, true)
end

function TestSleepValidatesItsArgument()
  assert.error_matches(function() sleep("x") end, "bad argument #1 to .*number expected")
  assert.error_matches(function() sleep(-1) end, "must not be negative")
  sleep(0.01)
end

function TestFailRaisesAFinding()
  local ok, err = pcall(fail, "disk full")
  assert.falsy(ok)
  assert.eq(tostring(err), "disk full")
end

function TestHelpKnowsBuiltins()
  -- help() writes to the state's stdout; the doc itself is what we check.
  assert.truthy(pcall(help))
  assert.truthy(pcall(help, json.encode))
  assert.truthy(pcall(help, "json.decode"))
end

function TestAssertModuleReportsLocation()
  local ok, err = pcall(function() assert.eq(1, 2) end)
  assert.falsy(ok)
  assert.matches(err, "base_test.lua:44: got 1, want 2")
  ok, err = pcall(function() assert.fails("x", nil, "y") end)
  assert.matches(err, "base_test.lua:47: message")
  -- Lua's own assert still works through the module.
  assert.eq(assert(5, "x"), 5)
end

function TestPlaybookParsesDeclaredArgs()
  arg = {[0] = "check.lua", "web", "--interval", "5", "--verbose"}
  local pb = playbook{
    description = "a check",
    args = {
      {name = "container", help = "name or id"},
      {name = "interval", type = "number", default = 1},
      {name = "verbose", flag = true},
      {name = "since", optional = true},
    },
  }
  assert.eq(pb.args.container, "web")
  assert.eq(pb.args.interval, 5)
  assert.eq(pb.args.verbose, true)
  assert.is_nil(pb.args.since)
  assert.eq(pb.description, "a check")
end

function TestPlaybookMissingArgumentIsUsageError()
  arg = {[0] = "check.lua"}
  local ok, err = pcall(playbook, {args = {{name = "container", help = "name or id"}}})
  assert.falsy(ok)
  assert.matches(tostring(err), 'missing argument "container"')
  arg = {[0] = "check.lua", "web", "--bogus"}
  ok, err = pcall(playbook, {args = {{name = "container"}}})
  assert.falsy(ok)
  assert.matches(tostring(err), "unknown argument %-%-bogus")
  assert.error_matches(function() playbook{descriptionn = "typo"} end, 'unknown option "descriptionn"')
end
