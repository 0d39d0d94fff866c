-- Misuse raises an error naming the function and the option; numbers that
-- are not what the function counts are never truncated or wrapped.

function TestSleepRejectsNaN()
  assert.error_matches(function() sleep(0/0) end, "bad argument #1 to 'sleep' %(seconds must be a number, got nan%)")
  assert.error_matches(function() sleep(-0.5) end, "bad argument #1 to 'sleep' %(seconds must not be negative%)")
end

function TestMkdirModeIsAPermissionInteger()
  local dir = T.tempdir()
  assert.error_matches(function() mkdir(dir .. "/a", 1.5) end, "bad argument #2 to 'mkdir' %(integer expected, got 1.5%)")
  assert.error_matches(function() mkdir(dir .. "/a", -1) end, "bad argument #2 to 'mkdir' %(mode must be between 0 and 0o7777")
  assert.error_matches(function() mkdir(dir .. "/a", 8^5) end, "bad argument #2 to 'mkdir' %(mode must be between")
  assert.truthy(mkdir(dir .. "/a/b", 448))
end

function TestLogsCountsAndTimesAreChecked()
  -- Options are read before the engine is asked: no container needed.
  local function raises(opts, pattern)
    assert.error_matches(function() logs.read("no-such-container", opts) end,
      "bad argument #2 to 'logs.read' %(option " .. pattern)
  end
  raises({tail = 1.5}, '"tail": integer expected, got 1.5%)')
  raises({tail = 0/0}, '"tail": integer expected, got nan%)')
  raises({tail = 1/0}, '"tail": integer expected, got inf%)')
  raises({tail = 2^70}, '"tail": integer expected, got 1.1805916207174e%+21%)')
  raises({since = 0/0}, '"since": invalid time nan')
  raises({since = 1/0}, '"since": time out of range')
  raises({["until"] = -1e300}, '"until": time out of range')
  raises({since = "Inf"}, '"since": invalid time "Inf"')
end

function TestDurationsAreChecked()
  local function raises(opts, pattern)
    assert.error_matches(function() docker.stats(opts) end, "bad argument #1 to 'docker.stats' %(option " .. pattern)
  end
  raises({interval = 0/0}, '"interval": invalid duration nan')
  raises({interval = -2}, '"interval": negative duration %-2')
  raises({interval = 1e20}, '"interval": duration too long')
  raises({interval = "1e20"}, '"interval": duration too long')
  raises({interval = "-5m"}, '"interval": invalid duration "%-5m"')
  raises({interval = true}, '"interval": duration expected, got boolean')
end

function TestContainerOptionsAndSignals()
  local c = assert(docker.container(engine.run(engine.busybox, "sleep", "300")))
  assert.error_matches(function() c:logs{tail = 1.5} end, "bad argument #1 to 'c:logs' %(option \"tail\": integer expected, got 1.5%)")
  assert.error_matches(function() c:stats{interval = 0/0} end, "bad argument #1 to 'c:stats' %(option \"interval\": invalid duration")
  assert.error_matches(function() c:stop{timeout = 1e300} end, "bad argument #1 to 'c:stop' %(option \"timeout\": duration too long")
  assert.error_matches(function() c:exec("true", {timeout = -1}) end, "bad argument #2 to 'c:exec' %(option \"timeout\": negative duration")
  assert.error_matches(function() c:kill(9.5) end, "bad argument #1 to 'c:kill' %(integer expected, got 9.5%)")
  assert.error_matches(function() c:kill(0) end, "bad argument #1 to 'c:kill' %(signal must be between 1 and 64, got 0%)")
  assert.error_matches(function() c:kill(0/0) end, "bad argument #1 to 'c:kill' %(integer expected, got nan%)")
  assert.error_matches(function() c:events{since = 0/0} end, "bad argument #1 to 'c:events' %(option \"since\": invalid time nan")
  local cg = assert(c:cgroup())
  assert.error_matches(function() cg:watch_oom(function() end, {timeout = 0/0}) end, "bad argument #2 to 'cg:watch_oom' %(option \"timeout\": invalid duration")
  assert.truthy(c:kill(15))
end

function TestNamespaceTargetsArePositiveIntegers()
  for _, f in ipairs{ns.enter, ns.run} do
    assert.error_matches(function() f(1.5, "true") end, "bad argument #1 to 'ns%.%a+' %(pid must be an integer%)")
    assert.error_matches(function() f(0, "true") end, "bad argument #1 to 'ns%.%a+' %(pid must be positive%)")
    assert.error_matches(function() f(-1, "true") end, "bad argument #1 to 'ns%.%a+' %(pid must be positive%)")
    assert.error_matches(function() f(0/0, "true") end, "bad argument #1 to 'ns%.%a+' %(pid must be an integer%)")
    assert.error_matches(function() f("0", "true") end, "bad argument #1 to 'ns%.%a+' %(pid must be positive%)")
  end
end
