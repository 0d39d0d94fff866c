-- cgroup over fixture trees of every layout, and over the test engine's
-- containers. Limited containers have --memory 64m --cpus 1.5 --pids-limit 100.

local MiB = 1024 * 1024

local layouts = {
  {tree = "cgroupv1-cgroupfs", mode = "v1", version = 1, limited = true},
  {tree = "cgroupv1-systemd", mode = "v1", version = 1},
  {tree = "cgroupv2-systemd", mode = "v2", version = 2, limited = true},
  {tree = "cgroupv2-cgroupfs", mode = "v2", version = 2},
  {tree = "hybrid", mode = "hybrid", version = 1, limited = true},
  {tree = "cgroupv1-old", mode = "v1", version = 1, limited = true, old = true},
  {tree = "cgroupv2-nopeak", mode = "v2", version = 2, limited = true, nopeak = true},
  {tree = "kubepods-containerd", mode = "v1", version = 1, limited = true},
  {tree = "podman", mode = "v2", version = 2},
  {tree = "crio", mode = "v2", version = 2, limited = true},
}

function TestLayouts()
  for _, l in ipairs(layouts) do
    local name = l.tree
    fixture(l.tree)
    assert.eq(cgroup.mode(), l.mode, name)
    assert.eq(cgroup.version(), l.version, name)
    local cg = assert(cgroup.of(2543))
    assert.eq(cg.version, l.version, name)
    assert.eq(tostring(cg), "<cgroup v" .. l.version .. " " .. cg.path .. ">")
    local v1 = l.version == 1

    local m = assert(cg:memory())
    assert.eq(m.usage, 10 * MiB, name)
    assert.eq(m.working_set, 8 * MiB, name) -- usage - inactive_file
    assert.eq(m.cache, 4 * MiB, name)
    assert.eq(m.rss, 5 * MiB, name)
    if l.limited then
      assert.eq(m.limit, 64 * MiB, name)
      assert.is_nil(m.unlimited, name)
    else
      assert.is_nil(m.limit, name)
      assert.eq(m.unlimited, true, name)
    end
    assert.eq(m.max_usage, (not l.nopeak) and 20 * MiB or nil, name)
    assert.eq(m.swap, (not l.old) and MiB or nil, name)
    assert.eq(m.failcnt, v1 and 3 or nil, name)
    assert.eq(m.oom_kills, (not l.old) and 2 or nil, name)
    assert.eq(cg:oom_kills(), m.oom_kills, name)
    assert.eq(m.stat.active_file, 2 * MiB, name)
    assert.eq(m.events ~= nil, not v1, name)

    local c = assert(cg:cpu())
    assert.eq(c.usage_ns, 123456789000, name)
    assert.eq(c.throttled_ns, 350000000, name)
    assert.eq(c.nr_throttled, 7, name)
    assert.eq(c.nr_periods, 100, name)
    assert.eq(c.quota_cores, l.limited and 1.5 or nil, name)
    if v1 then
      assert.eq(c.shares, l.limited and 512 or 1024, name)
      assert.is_nil(c.weight)
    else
      assert.eq(c.weight, l.limited and 20 or 100, name)
      assert.is_nil(c.shares)
    end

    local p = assert(cg:pids())
    if l.nopeak then
      assert.eq(p, {}, name) -- the pids controller is not enabled: nothing known, not 0
    else
      assert.eq(p.current, 2, name)
      assert.eq(p.limit, l.limited and 100 or nil, name)
      assert.eq(p.unlimited, (not l.limited) or nil, name)
    end

    local io = assert(cg:io())
    if l.nopeak then
      assert.eq(io, {}, name)
    else
      assert.eq(io, {read_bytes = 5096, write_bytes = 8192, read_ops = 2, write_ops = 3}, name)
    end

    local procs = assert(cg:procs())
    assert.eq(procs[1], 2543, name)
    assert.eq(procs[2], 2600, name)

    local again = assert(cgroup.open(cg.path))
    assert.eq(again.path, cg.path)
    assert.eq(assert(again:memory()).usage, m.usage)
  end
end

function TestOpen()
  local root = fixture("cgroupv1-cgroupfs")
  local cg = assert(cgroup.of(2543))
  -- An absolute path below a controller's mount names the same cgroup.
  assert.eq(assert(cgroup.open("/sys/fs/cgroup/memory" .. cg.path)).path, cg.path)
  assert.eq(assert(cgroup.open("/sys/fs/cgroup/pids" .. cg.path)).path, cg.path)
  assert.eq(assert(cgroup.open(cg.path:sub(2))).path, cg.path) -- no leading slash
  assert.eq(assert.fails("no such cgroup", cgroup.open("/nope")), "cgroup /nope: no such cgroup")
  assert.error_matches(function() cgroup.open() end, "bad argument #1 to 'cgroup.open' %(string expected, got nil%)")
  assert.error_matches(function() cgroup.open("") end, "bad argument #1 to 'cgroup.open' %(empty path%)")
  assert.error_matches(function() cgroup.of("x") end, "bad argument #1 to 'cgroup.of' %(number expected, got string%)")
  assert.error_matches(function() cgroup.of(-3) end, "bad argument #1 to 'cgroup.of' %(pid must be a positive integer%)")
  assert.eq(assert.fails("no such process", cgroup.of(999999999)), "process 999999999: no such process")
  -- Podman: limits on the scope, processes in its child "container".
  fixture("podman")
  local inner = assert(cgroup.of(2543))
  assert.matches(inner.path, "/container$")
  assert.eq(assert(inner:memory()).unlimited, true)
  local scope = assert(cgroup.open(inner.path:gsub("/container$", "")))
  assert.eq(assert(scope:memory()).limit, 64 * MiB)
  assert.eq(assert(scope:procs()), {})
  assert.type(root, "string")
end

function TestWatchOOMOptions()
  fixture("cgroupv2-systemd")
  local cg = assert(cgroup.of(2543))
  local calls = 0
  assert.eq(cg:watch_oom(function() calls = calls + 1 end, {timeout = 0.1}), true)
  assert.eq(calls, 0)
  assert.error_matches(function() cg:watch_oom("x") end, "bad argument #1 to 'cg:watch_oom' %(function expected, got string%)")
  assert.error_matches(function() cg:watch_oom(print, {bogus = 1}) end, "unknown option \"bogus\"")
  assert.error_matches(function() cg:watch_oom(print, {timeout = "soon"}) end, "option \"timeout\"")
end

function TestRealHost()
  local mode = assert(cgroup.mode())
  assert.truthy(mode == "v1" or mode == "v2" or mode == "hybrid", mode)
  assert.eq(cgroup.version(), mode == "v2" and 2 or 1)
  local cg = assert(proc.self():cgroup())
  assert.eq(cg.version, cgroup.version())
  assert.contains(assert(cg:procs()), proc.self().pid)
  assert.gt(assert(cg:memory()).usage, 0)
end

-- The acceptance tests of the issue, against the private test engine.
function TestEngineMemory()
  T.skip_unless_root()
  local id = engine.run("--memory", "64m", engine.busybox, "sleep", "1000")
  local pid = tonumber(engine.docker("inspect", "--format", "{{.State.Pid}}", id))
  local cg = assert(cgroup.of(pid))
  assert.contains(cg.path, id)
  local m = assert(cg:memory())
  assert.eq(m.limit, 64 * MiB)
  assert.gt(m.usage, 0)
  assert.ge(m.max_usage, m.usage)
  assert.contains(assert(cg:procs()), pid)
  assert.eq(assert(cg:pids()).current, 1)
  assert.gt(assert(cg:cpu()).usage_ns, 0)
end

function TestEngineOOM()
  T.skip_unless_root()
  -- The shell sleeps so that the watch below registers before the kill.
  local id = engine.run("--memory", "32m", "--memory-swap", "32m", engine.busybox, "sh", "-c",
    "sleep 2; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); sleep 100000")
  local pid = tonumber(engine.docker("inspect", "--format", "{{.State.Pid}}", id))
  local cg = assert(cgroup.of(pid))
  local before = assert(cg:oom_kills())
  local seen
  assert(cg:watch_oom(function(ev)
    seen = ev
    return false
  end, {timeout = 120}))
  assert.truthy(seen, "watch_oom called back")
  assert.ge(seen.oom_kills, before + 1)
  assert.gt(seen.time, 1.7e9)
  assert.ge(assert(cg:oom_kills()), before + 1)
  -- The container itself survives: only the allocating process was killed.
  assert.matches(engine.docker("inspect", "--format", "{{.State.Running}}", id), "^true%s*$")
end
