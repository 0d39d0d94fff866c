-- docker module against the private test engine.

local function uniq()
  return string.format("ctrsh-%d-%d", os.time(), math.random(1e9))
end

local function sorted_ids(list)
  local out = {}
  for _, c in ipairs(list) do out[#out + 1] = c.id end
  table.sort(out)
  return out
end

local function lines(s)
  local out = {}
  for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
  table.sort(out)
  return out
end

function TestContainersMatchDockerPs()
  engine.host()
  engine.run(engine.busybox, "sleep", "1000")
  -- Other test packages share the engine: compare again if it changed in between.
  local got, want
  for _ = 1, 5 do
    got = sorted_ids(assert(docker.containers()))
    want = lines(engine.docker("ps", "-q", "--no-trunc"))
    if #got == #want and json.encode(got) == json.encode(want) then break end
  end
  assert.eq(got, want)
end

function TestFiltersMatchDockerPs()
  local tag = uniq()
  local label = "ctrsh.case=" .. tag
  local a = engine.run("--label", label, "--label", "role=a", "--name", tag .. "-a", engine.busybox, "sleep", "1000")
  local b = engine.run("--label", label, "--label", "role=b", "--name", tag .. "-b", engine.busybox, "sleep", "1000")
  local x = engine.run("--label", label, "--name", tag .. "-x", engine.busybox, "true")
  engine.docker("wait", x)
  local cases = {
    {opts = {filters = {label = label}}, args = {"--filter", "label=" .. label}},
    {opts = {filters = {label = {label, "role=a"}}}, args = {"--filter", "label=" .. label, "--filter", "label=role=a"}},
    {opts = {filters = {name = tag .. "-b"}}, args = {"--filter", "name=" .. tag .. "-b"}},
    {opts = {filters = {name = {tag .. "-a", tag .. "-b"}}}, args = {"--filter", "name=" .. tag .. "-a", "--filter", "name=" .. tag .. "-b"}},
    {opts = {all = true, filters = {label = label, status = "exited"}}, args = {"-a", "--filter", "label=" .. label, "--filter", "status=exited"}},
    {opts = {all = true, filters = {label = label, status = {"running", "exited"}}}, args = {"-a", "--filter", "label=" .. label, "--filter", "status=running", "--filter", "status=exited"}},
    {opts = {all = true, filters = {label = label}}, args = {"-a", "--filter", "label=" .. label}},
    {opts = {filters = {label = label, id = a:sub(1, 10)}}, args = {"--filter", "label=" .. label, "--filter", "id=" .. a:sub(1, 10)}},
  }
  for i, case in ipairs(cases) do
    local got = sorted_ids(assert(docker.containers(case.opts)))
    local args = {"ps", "-q", "--no-trunc"}
    for _, v in ipairs(case.args) do args[#args + 1] = v end
    local want = lines(engine.docker(args))
    assert.eq(got, want, "case " .. i)
    assert.truthy(#got > 0, "case " .. i .. " lists something")
  end
  assert.error_matches(function() docker.containers{filters = {label = 3}} end, "bad argument #1")
  assert.error_matches(function() docker.containers{bogus = true} end, "unknown option")
end

function TestContainerLookup()
  local tag = uniq()
  local id = engine.run("--name", tag, "--label", "ctrsh.case=" .. tag, engine.busybox, "sleep", "1000")
  local by_name = assert(docker.container(tag))
  assert.eq(by_name.id, id)
  assert.eq(by_name.name, tag)
  assert.eq(by_name.short_id, id:sub(1, 12))
  assert.eq(by_name.state, "running")
  assert.eq(by_name.image, engine.busybox)
  assert.eq(by_name.labels["ctrsh.case"], tag)
  assert.eq(by_name.restart_count, 0)
  assert.truthy(by_name.pid > 0)
  assert.truthy(math.abs(by_name.created - now()) < 600)
  assert.eq(by_name.pid, tonumber(engine.docker("inspect", "--format", "{{.State.Pid}}", id)))
  assert.eq(assert(docker.container(id)).name, tag)
  assert.eq(assert(docker.container(id:sub(1, 8))).id, id)
  assert.contains(tostring(by_name), "<container " .. tag .. " " .. id:sub(1, 6))
  assert.contains(tostring(by_name), "running pid " .. by_name.pid)

  local c, err = docker.container("nope-" .. tag)
  assert.eq(c, nil)
  assert.eq(err, 'container "nope-' .. tag .. '": no such container')

  -- An ambiguous prefix, made on purpose: containers are created until two
  -- of them share a first hex digit (17 at most: there are 16 digits).
  local first, prefix = {}, nil
  for _ = 1, 17 do
    local cid = engine.docker("create", "--label", "ctrsh.case=" .. tag, engine.busybox, "true"):match("%x+")
    T.cleanup(function() engine.docker("rm", "-f", cid) end)
    local p = cid:sub(1, 1)
    if first[p] then prefix = p break end
    first[p] = cid
  end
  assert.truthy(prefix, "17 ids share no first digit")
  local c, err = docker.container(prefix)
  assert.eq(c, nil)
  assert.contains(err, 'container "' .. prefix .. '": ambiguous: matches ')
  assert.error_matches(function() docker.container() end, "bad argument #1 to 'docker.container' %(string expected, got nil%)")
  assert.error_matches(function() docker.container({}) end, "bad argument #1")
end

function TestRefreshAndInspect()
  local tag = uniq()
  local id = engine.run("--name", tag, engine.busybox, "sleep", "1000")
  local c = assert(docker.container(id))
  local doc = assert(c:inspect())
  assert.eq(doc.Id, id)
  assert.eq(doc.Name, "/" .. tag)
  assert.eq(doc.State.Pid, c.pid)
  -- The engine's document as it is: Podman names the image in full; c.image
  -- is the short form docker ps shows, on both.
  assert.eq(doc.Config.Image, engine.kind == "podman" and "docker.io/" .. engine.busybox or engine.busybox)
  assert.eq(c.image, engine.busybox)
  assert.eq(c.runtime, engine.kind)
  assert.eq(c.source, "engine")
  engine.docker("pause", id)
  assert.eq(c.state, "running") -- a snapshot
  assert.eq(c:refresh(), c)
  assert.eq(c.state, "paused")
  assert.contains(c.status, "(Paused)")
  engine.docker("unpause", id)
end

function TestTop()
  local id = engine.run(engine.busybox, "sh", "-c", "sleep 1000 & sleep 1000; echo done")
  local c = assert(docker.container(id))
  -- docker run returns once the shell runs, maybe before it forks its
  -- two sleeps: wait (up to 10 s) for them, then check the rows.
  local rows = assert(c:top())
  for _ = 1, 200 do
    if #rows >= 3 then break end
    sleep(0.05)
    rows = assert(c:top())
  end
  local init
  for _, r in ipairs(rows) do
    if r.pid_inside == 1 then init = r end
  end
  assert.truthy(init, "a row with pid_inside == 1")
  assert.eq(init.pid, c.pid)
  assert.eq(#rows, 3)
  for _, r in ipairs(rows) do
    assert.truthy(r.pid > 0 and r.cmd ~= "" and r.comm ~= "")
  end
end

function TestExec()
  local c = assert(docker.container(engine.run(engine.busybox, "sleep", "1000")))
  local r = assert(c:exec{"sh", "-c", "echo out; echo err >&2; exit 7"})
  assert.eq(r.code, 7)
  assert.eq(r.stdout, "out\n")
  assert.eq(r.stderr, "err\n")

  r = assert(c:exec("cat", {stdin = "hello\0world"}))
  assert.eq(r.code, 0)
  assert.eq(r.stdout, "hello\0world")

  r = assert(c:exec({"sh", "-c", "echo $A:$B; id -u; pwd"}, {env = {A = "1", B = "two"}, user = "1234", workdir = "/tmp"}))
  assert.eq(r.stdout, "1:two\n1234\n/tmp\n")

  r = assert(c:exec({"sh", "-c", "echo out; echo err >&2"}, {tty = true}))
  assert.eq(r.code, 0)
  assert.contains(r.stdout, "out")
  assert.contains(r.stdout, "err")
  assert.eq(r.stderr, "")

  local big = assert(c:exec{"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"})
  assert.eq(#big.stdout, 300000)

  local res, err = c:exec({"sleep", "30"}, {timeout = 0.5})
  assert.eq(res, nil)
  assert.contains(err, "timed out")

  local res, err = c:exec{"/no/such/binary"}
  if res then assert.ne(res.code, 0) else assert.contains(err, "container") end
  assert.error_matches(function() c:exec() end, "bad argument #1 to 'c:exec' %(string or array expected, got no value%)")
  assert.error_matches(function() c:exec({"true"}, {bogus = 1}) end, "unknown option")
  -- env= values are strings or numbers, as for c:enter (luax.Options.Env)
  assert.error_matches(function() c:exec({"true"}, {env = {A = true}}) end, 'option "env": key "A": string or number expected, got boolean')
end

function TestStats()
  local c = assert(docker.container(engine.run("--memory", "64m", engine.busybox, "sh", "-c", "while :; do :; done")))
  local s = assert(c:stats())
  assert.eq(s.memory.limit, 64 * 1024 * 1024)
  assert.eq(s.cpu.percent, nil)
  assert.truthy(s.cpu.usage_ns > 0)
  assert.truthy(s.pids.current >= 1)
  assert.truthy(s.net.rx_bytes >= 0)
  assert.truthy(s.net.interfaces.lo)
  assert.truthy(s.memory.working_set <= s.memory.usage)
  local s2 = assert(c:stats{interval = 0.5})
  assert.truthy(s2.cpu.percent > 10, "a busy loop uses CPU: " .. tostring(s2.cpu.percent))
end

function TestStatsAll()
  local tag = uniq()
  local label = "ctrsh.case=" .. tag
  local want = {}
  for i = 1, 20 do
    want[engine.run("--label", label, engine.busybox, "sleep", "1000")] = true
  end
  local rows = assert(docker.stats{interval = 1, filters = {label = label}})
  assert.eq(#rows, 20)
  for _, r in ipairs(rows) do
    assert.truthy(want[r.id], r.id)
    assert.eq(type(r.cpu.percent), "number")
    assert.truthy(r.memory.usage > 0)
    assert.truthy(r.name ~= "")
  end
end

function TestLifecycle()
  local tag = uniq()
  local c = assert(docker.container(engine.run("--name", tag, engine.busybox, "sleep", "1000")))
  assert.eq(c:pause(), true)
  assert.eq(c:refresh().state, "paused")
  assert.eq(c:unpause(), true)
  assert.eq(c:refresh().state, "running")
  assert.eq(c:stop{timeout = 1}, true)
  assert.eq(c:refresh().state, "exited")
  assert.eq(c:wait(), 137)
  assert.eq(c:start(), true)
  assert.eq(c:refresh().state, "running")
  local pid = c.pid
  assert.eq(c:restart{timeout = 0}, true)
  assert.ne(c:refresh().pid, pid)
  assert.eq(c:kill("TERM"), true) -- sleep as PID 1 ignores TERM
  assert.eq(c:kill(9), true)
  assert.eq(c:wait(), 137)
  local ok, err = c:unpause()
  assert.eq(ok, nil)
  assert.contains(err, 'container "' .. tag .. '": ')
  engine.docker("rm", "-f", c.id)
  local ok, err = c:start()
  assert.eq(ok, nil)
  assert.eq(err, 'container "' .. tag .. '": no such container')
  local ok, err = c:refresh()
  assert.eq(err, 'container "' .. tag .. '": no such container')
end

function TestInfo()
  local info = assert(docker.info())
  assert.eq(info.server_version, engine.docker("version", "--format", "{{.Server.Version}}"))
  assert.eq(info.api_version, engine.docker("version", "--format", "{{.Server.APIVersion}}"))
  assert.eq(info.cgroup_driver, engine.docker("info", "--format", "{{.CgroupDriver}}"))
  -- The API version is negotiated down to the engine's (Podman 4: 1.41).
  assert.eq(info.runtime, engine.kind)
  assert.eq(type(info.running), "number")
  assert.eq(docker.ping(), true)
end

function TestNamespacesAndCgroup()
  local c = assert(docker.container(engine.run(engine.busybox, "sleep", "1000")))
  local n = assert(c:ns())
  assert.eq(n.net, ns.of(c.pid).net)
  assert.ne(n.net, ns.of(proc.self().pid).net)
  local cg = assert(c:cgroup())
  assert.contains(cg.path, c.id)
  assert.eq(assert(proc.get(c.pid)):container().id, c.id)
  assert.eq(ns.of(c.name).mnt, n.mnt)
end

-- A container restarting in a loop is only ever in one of Docker's states,
-- on Docker and on Podman (whose own word between restarts is "stopped").
function TestStateNamesWhileRestarting()
  local c = assert(docker.container(engine.run("--restart", "always", engine.busybox, "sh", "-c", "sleep 0.1; exit 3")))
  local docker_states = {created = true, running = true, paused = true, restarting = true, removing = true, exited = true, dead = true}
  local seen = {}
  for _ = 1, 30 do
    local state = c:refresh().state
    assert.truthy(docker_states[state], "state " .. state)
    seen[state] = true
    sleep(0.05)
  end
  assert.eq(c.restart_policy, "always")
  T.log("states seen:", json.encode(seen))
end
