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
