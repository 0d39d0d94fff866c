-- A container's life as an event stream shows it, on Docker and on Podman
-- (engine.kind): the same actions, named as Docker names them.

local function uniq()
  return string.format("ctrsh-life-%d-%d", os.time(), math.random(1e9))
end

-- dockerd logs pause and unpause a second time when containerd's
-- paused and resumed events reach its monitor after both API calls have
-- returned (daemon/monitor.go logs them when its Paused flag disagrees,
-- and the unpause has already put it back): an echo of the engine's that
-- `docker events` shows too, seen under heavy load. One such pair right
-- after the first is dropped; anything else still fails.
local function without_echo(actions)
  local out = {}
  for _, a in ipairs(actions) do
    local n = #out
    out[n + 1] = a
    if a == "unpause" and n >= 3 and out[n] == "pause" and out[n - 1] == "unpause" and out[n - 2] == "pause" then
      out[n], out[n + 1] = nil, nil
    end
  end
  return out
end

function TestLifecycleActions()
  engine.host() -- waits while another test process restarts the shared engine
  local tag = uniq()
  local it, close = assert(events.stream{filters = {container = tag}})
  local id = engine.run("--name", tag, engine.busybox, "sh", "-c", "sleep 1; exit 7")
  local c = assert(docker.container(id))
  assert.eq(c:pause(), true)
  assert.eq(c:unpause(), true)
  assert.eq(c:wait(), 7)
  engine.docker("rm", id)
  local got, exit_code = {}, nil
  for e in it do
    assert.eq(e.id, id)
    assert.eq(e.type, "container")
    -- Podman's own attribute, "0" on every event but die: not passed on.
    assert.eq(e.attributes.containerExitCode, nil)
    if e.action == "die" then exit_code = e.attributes.exitCode end
    -- Podman's init and cleanup have no Docker counterpart: left out here,
    -- as are the events a reconnect would reconcile (none, unless the
    -- engine restarted meanwhile).
    if e.action ~= "init" and e.action ~= "cleanup" and e.attributes.reconciled ~= "true" then
      got[#got + 1] = e.action
    end
    if e.action == "destroy" then break end
  end
  close()
  assert.eq(without_echo(got), {"create", "start", "pause", "unpause", "die", "destroy"})
  assert.eq(exit_code, "7")
end

function TestWithoutEcho()
  assert.eq(without_echo({"start", "pause", "unpause", "pause", "unpause", "die"}), {"start", "pause", "unpause", "die"})
  assert.eq(without_echo({"start", "pause", "unpause", "die"}), {"start", "pause", "unpause", "die"})
  assert.eq(without_echo({"start", "pause", "pause", "unpause", "die"}), {"start", "pause", "pause", "unpause", "die"})
  assert.eq(without_echo({"start", "unpause", "pause", "unpause"}), {"start", "unpause", "pause", "unpause"})
end

-- The event filter takes Docker's names on both engines.
function TestFilterByDockerActionNames()
  engine.host()
  local tag = uniq()
  local it, close = assert(events.stream{filters = {container = tag, event = {"die", "destroy"}}, ["until"] = now() + 30})
  local id = engine.run("--name", tag, engine.busybox, "true")
  docker.container(id):wait()
  engine.docker("rm", id)
  local e1, e2 = it(), it()
  close()
  assert.eq({e1.action, e2.action}, {"die", "destroy"})
  assert.eq(e1.attributes.exitCode, "0")
end

-- A window in the past replays what happened in it and ends: on Podman,
-- which answers since+until with nothing, ctrsh applies until itself.
function TestSinceUntilWindow()
  engine.host()
  local tag = uniq()
  local t0 = now()
  local id = engine.run("--name", tag, engine.busybox, "sh", "-c", "exit 5")
  assert.eq(assert(docker.container(id)):wait(), 5)
  sleep(0.3)
  local t1 = now()
  sleep(0.3)
  engine.docker("rm", id) -- after the window: not in it
  local got, code = {}, nil
  for e in events.stream{filters = {container = id}, since = t0, ["until"] = t1} do
    assert.truthy(e.time >= t0 and e.time <= t1, e.action)
    if e.action == "die" then code = e.attributes.exitCode end
    if e.action ~= "init" and e.action ~= "cleanup" and e.attributes.reconciled ~= "true" then
      got[#got + 1] = e.action
    end
  end
  assert.eq(got, {"create", "start", "die"})
  assert.eq(code, "5")
end
