-- logs module against the private test engine, compared with the docker CLI.

-- collect(stream, iterator): the lines of stream (nil: both).
local function collect(stream, it)
  local out = {}
  for l in it do
    if stream == nil or l.stream == stream then out[#out + 1] = l.line end
  end
  return out
end

local big -- a container that wrote 100,000 lines to stdout and as many to stderr
local function bigContainer()
  if big then return big end
  local id = engine.run(engine.busybox, "sh", "-c",
    "seq 1 100000 | awk '{ print \"out \" $1; print \"err \" $1 > \"/dev/stderr\" }'")
  engine.docker("wait", id)
  big = assert(docker.container(id))
  return big
end

function TestTail()
  local c = bigContainer()
  for _, stream in ipairs{"stdout", "stderr"} do
    assert.eq(collect(stream, c:logs{tail = 3}), cli("logs --tail 3 " .. c.id, stream), stream)
  end
  local lines = collect(nil, c:logs{tail = 3})
  assert.eq(#lines, 3)
  assert.eq(collect(nil, logs.read(c.name, {tail = 3})), lines)
end

function TestGrep()
  local c = bigContainer()
  local got = collect(nil, c:logs{grep = "^(out|err) 9999"})
  assert.eq(#got, 22)
  for _, stream in ipairs{"stdout", "stderr"} do
    local filtered = cli("logs " .. c.id, stream, " | grep -E '^(out|err) 9999'")
    assert.eq(#filtered, 11)
    assert.eq(collect(stream, c:logs{grep = "^(out|err) 9999"}), filtered, stream)
  end
  assert.error_matches(function() c:logs{grep = "("} end, "option \"grep\"")
  -- a scan left early, then closed: its readers stop, the iterator ends
  local it, close = c:logs{grep = "^out"}
  assert.eq(it().line, "out 1")
  close()
  assert.eq(it(), nil)
  for l in c:logs{} do break end
end

function TestSinceUntilAndTimestamps()
  local c = bigContainer()
  -- pick the times of two lines in the middle
  local times = {}
  local n = 0
  for l in c:logs{} do
    n = n + 1
    assert.eq(type(l.time), "number")
    if n == 60000 or n == 60001 or n == 140000 or n == 140001 then times[#times + 1] = l.time end
  end
  assert.eq(n, 200000)
  -- between two lines, so that rounding the times cannot move a line across
  local since, till = (times[1] + times[2]) / 2, (times[3] + times[4]) / 2
  local range = string.format("--since %.9f --until %.9f ", since, till)
  for _, stream in ipairs{"stdout", "stderr"} do
    local got = collect(stream, c:logs{since = since, ["until"] = till})
    assert.truthy(#got > 0)
    assert.eq(got, cli("logs " .. range .. c.id, stream), stream)
    local stamped = collect(stream, c:logs{since = since, ["until"] = till, timestamps = true})
    assert.eq(stamped, cli("logs -t " .. range .. c.id, stream), stream .. " with timestamps")
  end
  assert.eq(collect("stdout", c:logs{tail = 4, timestamps = true}), cli("logs -t --tail 4 " .. c.id, "stdout"))
end

-- since and until at the edges, on a log the engine rotated: read from the
-- files by binary search, the lines must be the docker CLI's.
function TestSinceUntilEdgesAcrossRotation()
  local id = engine.run("--log-opt", "max-size=4k", "--log-opt", "max-file=20", engine.busybox, "sh", "-c",
    "seq 1 300 | awk '{ print \"out \" $1; if ($1 % 3 == 0) print \"err \" $1 > \"/dev/stderr\" }'")
  engine.docker("wait", id)
  local c = assert(docker.container(id))
  local path = cli("inspect -f '{{.LogPath}}' " .. id, "stdout")[1]
  assert.truthy(log_parts(path) >= 4, "files of the log: " .. log_parts(path))
  -- every line's time stamp, oldest first, as the CLI prints them
  local stamps = {}
  for _, l in ipairs(cli("logs -t " .. id, "stdout")) do stamps[#stamps + 1] = l:match("^(%S+) ") end
  assert.eq(#stamps, 300)
  local first, last = stamps[1], stamps[#stamps]
  local cases = {
    {"on a line, in the oldest file", stamps[2], stamps[40]},
    {"on a line, across rotations", stamps[30], stamps[270]},
    {"between two lines", stamp_add(stamps[100], 1), stamp_add(stamps[200], -1)},
    {"until on a line", nil, stamps[150]},
    {"since on a line", stamps[250], nil},
    {"before the first", stamp_add(first, -3600e9), stamps[10]},
    {"after the last", stamp_add(last, 1), nil},
    {"all, from before the first to after the last", stamp_add(first, -1), stamp_add(last, 3600e9)},
    {"until before the first", nil, stamp_add(first, -1)},
    {"since after until", stamps[200], stamps[100]},
    {"one line", stamps[123], stamps[123]},
  }
  for _, case in ipairs(cases) do
    local name, since, till = case[1], case[2], case[3]
    local args = ""
    if since then args = args .. "--since " .. since .. " " end
    if till then args = args .. "--until " .. till .. " " end
    for _, stream in ipairs{"stdout", "stderr"} do
      local got = collect(stream, c:logs{since = since, ["until"] = till, timestamps = true})
      assert.eq(got, cli("logs -t " .. args .. id, stream), name .. " (" .. stream .. ")")
    end
  end
end

function TestLongLinesAndBinary()
  -- A 200,000-byte line: the engine stores it in 16 KiB parts, read back as one line.
  local id = engine.run(engine.busybox, "sh", "-c", "head -c 200000 /dev/zero | tr '\\0' a; echo; echo tail")
  engine.docker("wait", id)
  local got = collect(nil, logs.read(id))
  assert.eq(#got, 2)
  assert.eq(got[1], string.rep("a", 200000))
  assert.eq(got[2], "tail")
  assert.eq(got, cli("logs " .. id, "stdout"))

  local script = "printf 'bin\\001\\002\\377'; head -c 1 /dev/zero; printf 'end\\n'; printf 'no newline'"
  -- The local log driver keeps every byte.
  id = engine.run("--log-driver", "local", engine.busybox, "sh", "-c", script)
  engine.docker("wait", id)
  got = collect(nil, logs.read(id))
  assert.eq(got, {"bin\1\2\255\0end", "no newline"})
  -- json-file stores lines as JSON strings: the engine itself replaces
  -- invalid UTF-8; ctrsh gives what the CLI gives.
  id = engine.run(engine.busybox, "sh", "-c", script)
  engine.docker("wait", id)
  got = collect(nil, logs.read(id))
  assert.eq(#got, 2)
  assert.eq(got[1]:sub(1, 5), "bin\1\2")
  assert.eq(got, cli("logs " .. id, "stdout"))
end

function TestTTY()
  local id = engine.run("-t", engine.busybox, "sh", "-c", "echo one; echo two >&2")
  engine.docker("wait", id)
  local got = {}
  for l in logs.read(id) do
    assert.eq(l.stream, "stdout")
    assert.eq(type(l.time), "number")
    got[#got + 1] = l.line
  end
  assert.eq(got, {"one", "two"})
end

function TestFollowEndsWhenContainerStops()
  local id = engine.run(engine.busybox, "sh", "-c", "echo a; sleep 1; echo b; sleep 1; echo c")
  local got = collect(nil, logs.read(id, {follow = true}))
  assert.eq(got, {"a", "b", "c"})
end

function TestBreakAndClose()
  local id = engine.run(engine.busybox, "sh", "-c", "while :; do echo tick; sleep 0.1; done")
  for l in logs.read(id, {follow = true}) do
    assert.eq(l.line, "tick")
    break
  end
  local it, close = logs.read(id, {follow = true})
  assert.eq(it().line, "tick")
  close()
  assert.eq(it(), nil)
end

function TestErrors()
  local it, err = logs.read("no-such-container-ctrsh")
  assert.eq(it, nil)
  assert.eq(err, 'container "no-such-container-ctrsh": no such container')
  assert.error_matches(function() logs.read("x", {tail = "three"}) end, "bad argument #2")
  assert.error_matches(function() logs.read() end, "bad argument #1")
end
