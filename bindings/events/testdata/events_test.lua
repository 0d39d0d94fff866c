-- events module against the private test engine.

local function uniq()
  return string.format("ctrsh-%d-%d", os.time(), math.random(1e9))
end

function TestPauseUnpauseOnly()
  local tag = uniq()
  local c = assert(docker.container(engine.run("--name", tag, engine.busybox, "sleep", "1000")))
  local it, close = assert(events.stream{filters = {container = c.name, event = {"pause", "unpause"}}})
  assert.eq(c:pause(), true)
  assert.eq(c:unpause(), true)
  local e1, e2 = it(), it()
  assert.eq(e1.action, "pause")
  assert.eq(e2.action, "unpause")
  for _, e in ipairs{e1, e2} do
    assert.eq(e.type, "container")
    assert.eq(e.id, c.id)
    assert.eq(e.name, tag)
    assert.eq(e.image, engine.busybox)
    assert.eq(e.attributes.name, tag)
    assert.eq(type(e.time), "number")
    assert.truthy(math.abs(e.time - now()) < 60)
  end
  assert.truthy(e2.time >= e1.time)
  -- Events the filter excludes do not come: the next one is the next pause.
  assert.eq(c:stop{timeout = 0}, true)
  assert.eq(c:start(), true)
  assert.eq(c:pause(), true)
  assert.eq(it().action, "pause")
  close()
  assert.eq(it(), nil)
  c:unpause()
end

function TestSinceUntilReplays()
  local tag = uniq()
  local t0 = now()
  local c = assert(docker.container(engine.run("--name", tag, engine.busybox, "sleep", "1000")))
  c:pause()
  c:unpause()
  sleep(0.2)
  local t1 = now()
  local got = {}
  for e in events.stream{filters = {container = tag}, since = t0, ["until"] = t1} do
    got[#got + 1] = e.action
  end
  assert.eq(got, {"create", "start", "pause", "unpause"})
  -- the CLI agrees
  local cli = engine.docker("events", "--since", string.format("%.6f", t0), "--until", string.format("%.6f", t1),
    "--filter", "container=" .. tag, "--format", "{{.Action}}")
  local want = {}
  for l in cli:gmatch("[^\n]+") do want[#want + 1] = l end
  assert.eq(got, want)
end

function TestContainerEvents()
  local tag = uniq()
  local other = engine.run(engine.busybox, "sleep", "1000")
  local c = assert(docker.container(engine.run("--name", tag, engine.busybox, "sleep", "1000")))
  local it, close = assert(c:events{filters = {event = {"pause", "unpause"}}})
  engine.docker("pause", other)
  engine.docker("unpause", other)
  c:pause()
  local e = it()
  assert.eq(e.id, c.id)
  assert.eq(e.action, "pause")
  close()
  c:unpause()
end

function TestOOMReachesWatch()
  local t0 = now()
  local id = engine.run("--memory", "32m", "--memory-swap", "32m", engine.busybox, "sh", "-c",
    "sleep 1; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100000")
  local got
  local ok = assert(events.watch({filters = {container = id, event = "oom"}, since = t0}, function(ev)
    got = ev
    return false
  end))
  assert.eq(ok, true)
  assert.eq(got.action, "oom")
  assert.eq(got.id, id)
end

function TestWatchUntil()
  local n = 0
  assert.eq(events.watch({filters = {type = "container", event = "no-such-action"}, ["until"] = now() + 0.5}, function() n = n + 1 end), true)
  assert.eq(n, 0)
end

function TestMisuse()
  assert.error_matches(function() events.stream{bogus = 1} end, "unknown option")
  assert.error_matches(function() events.stream{filters = {event = 3}} end, "bad argument #1")
  assert.error_matches(function() events.stream{since = "yesterday"} end, "invalid time")
  assert.error_matches(function() events.watch({}) end, "bad argument #2")
end

-- The snippets of issue 11 inside an events.watch callback (gopher-lua
-- #448: pcall used to break the upvalues they share with this function),
-- and a failing callback caught by a pcall around watch.
function TestWatchCallbackKeepsUpvalues()
  local t0 = now()
  local id = engine.run(engine.busybox, "sleep", "1000")
  engine.docker("pause", id)
  engine.docker("unpause", id)
  local results = {}
  assert(events.watch({filters = {container = id, event = {"pause", "unpause"}}, since = t0}, function(ev)
    local n = 0
    local function try(f, ...) n = n + 1; return pcall(f, ...) end
    try(error, "x"); try(error, "y"); try(error, "z")
    local a
    local function use() return a("ok") end
    pcall(function() error("boom") end)
    a = function(s) return s .. " " .. ev.action end
    results[#results + 1] = n .. " " .. use()
    return ev.action ~= "unpause"
  end))
  assert.eq(results, {"3 ok pause", "3 ok unpause"})

  local seen = 0
  local ok, err = pcall(events.watch, {filters = {container = id, event = "pause"}, since = t0}, function()
    seen = seen + 1
    error("stop here", 0)
  end)
  assert.eq({ok, err, seen}, {false, "stop here", 1})
  seen = seen + 1
  assert.eq(seen, 2)
end
