-- proc over fixture trees of every layout, and over real containers of the
-- test engine.



-- Each tree: its container's runtime and hostname; the id is read from the
-- tree's own cgroup file, and checked against the runtime's naming.
local layouts = {
  {tree = "cgroupv1-cgroupfs", runtime = "docker", cgroup = "^/docker/(%x+)$"},
  {tree = "cgroupv1-systemd", runtime = "docker", cgroup = "^/system%.slice/docker%-(%x+)%.scope$"},
  {tree = "cgroupv2-systemd", runtime = "docker", cgroup = "^/system%.slice/docker%-(%x+)%.scope$"},
  {tree = "cgroupv2-cgroupfs", runtime = "docker", cgroup = "^/docker/(%x+)$"},
  {tree = "hybrid", runtime = "docker", cgroup = "^/system%.slice/docker%-(%x+)%.scope$"},
  {tree = "cgroupv1-old", runtime = "docker", cgroup = "^/docker/(%x+)$"},
  {tree = "cgroupv2-nopeak", runtime = "docker", cgroup = "^/system%.slice/docker%-(%x+)%.scope$"},
  {tree = "kubepods-containerd", runtime = "containerd", cgroup = "^/kubepods/burstable/pod[%x-]+/(%x+)$", hostname = "web-7d9f8c-abcde"},
  {tree = "podman", runtime = "podman", cgroup = "^/machine%.slice/libpod%-(%x+)%.scope/container$", hostname = "web"},
  {tree = "crio", runtime = "crio", cgroup = "/crio%-(%x+)%.scope$", hostname = "web-5c8d7b-xyz12"},
}

function TestLayouts()
  for _, l in ipairs(layouts) do
    fixture(l.tree)
    local p = assert(proc.get(2543))
    local cg = assert(p:cgroup())
    local id = cg.path:match(l.cgroup)
    assert.truthy(id, l.tree .. ": cgroup path " .. cg.path)
    assert.eq(#id, 64, l.tree)
    assert.eq(p.container_id, id, l.tree)
    assert.eq(p.runtime, l.runtime, l.tree)
    assert.eq(p.nspid, {2543, 1}, l.tree)
    assert.eq(p.pid_inside, 1, l.tree)
    assert.eq(p.ppid, 2500, l.tree)
    assert.eq(p.cmdline, {"sleep", "1000"}, l.tree)
    assert.eq(p.comm, "sleep")
    assert.eq(p.state, "S")
    assert.eq(p.start_time, 1700005000, l.tree)
    assert.eq(p:environ().HOSTNAME, l.hostname or id:sub(1, 12), l.tree)
    assert.eq(p:status().NSpid, "2543\t1")
    assert.eq(p:status().VmRSS, 600 * 1024)
    assert.eq(p:status().Threads, 1)
    -- The runtime's helper beside the container (shim, conmon) is no container's.
    local helper = assert(proc.get(2500))
    assert.is_nil(helper.container_id, l.tree .. ": " .. helper.comm)
    assert.is_nil(helper.runtime)
    assert.is_nil(assert(proc.get(1)).container_id)
    local self = proc.self()
    assert.eq(self.pid, 4242)
    assert.is_nil(self.container_id)
    assert.ne(p:ns().pid, self:ns().pid)
    local kids = p:children()
    assert.eq(kids[1].pid, 2600, l.tree)
    assert.eq(kids[1].nspid, {2600, 7})
    assert.eq(kids[1].uid, 33)
    assert.eq(kids[1].container_id, id)
    assert.matches(tostring(p), "^<process 2543 sleep " .. l.runtime .. " %x+ pid 1 inside>$")
  end
end

function TestList()
  fixture("cgroupv1-cgroupfs")
  local p = assert(proc.get(2543))
  local function pids(list)
    local out = {}
    for _, q in ipairs(list) do out[#out + 1] = q.pid end
    return out
  end
  assert.eq(pids(proc.list{container = true}), {2543, 2600, 3200})
  assert.eq(pids(proc.list{container = p.container_id:sub(1, 12)}), {2543, 2600, 3200})
  assert.eq(pids(proc.list{container = p.container_id}), {2543, 2600, 3200})
  assert.eq(pids(proc.list{container = false}), {1, 2, 2500, 3000, 4242})
  assert.eq(pids(proc.list{comm = "^sh$"}), {2600})
  assert.eq(pids(proc.list{comm = "%(odd%)"}), {3000})
  assert.eq(pids(proc.list{container = true, comm = "^s"}), {2543, 2600})
  assert.eq(#proc.list(), 8) -- 3100 exited while the table was read: left out
  assert.eq(pids(proc.list{container = "ffff"}), {})
  -- Names go to the docker module (ids are matched in /proc, engine or not).
  assert.fails('container "ctrsh%-no%-such%-container": no such container', proc.list{container = "ctrsh-no-such-container"})
  assert.error_matches(function() proc.list{bogus = 1} end, "unknown option \"bogus\"")
  assert.error_matches(function() proc.list{container = 1} end, "option \"container\": string or boolean expected, got number")
  assert.error_matches(function() proc.list{comm = "[a"} end, "option \"comm\"")
  -- The kernel thread: no command line, no exe, no container.
  local k = assert(proc.get(2))
  assert.eq(k.cmdline, {})
  assert.is_nil(k.exe)
  assert.eq(assert(proc.get(2543)).exe, "/usr/bin/sleep")
  -- A zombie of the container.
  local z = assert(proc.get(3200))
  assert.eq(z.state, "Z")
  assert.eq(z.pid_inside, 9)
end

function TestBadInput()
  fixture("cgroupv1-cgroupfs")
  assert.error_matches(function() proc.get(-1) end, "bad argument #1 to 'proc.get' %(pid must be positive%)")
  assert.error_matches(function() proc.get(0) end, "bad argument #1 to 'proc.get' %(pid must be positive%)")
  assert.error_matches(function() proc.get(1.5) end, "bad argument #1 to 'proc.get' %(pid must be an integer%)")
  assert.error_matches(function() proc.get("x") end, "bad argument #1 to 'proc.get' %(number expected, got string%)")
  assert.error_matches(function() proc.get() end, "bad argument #1 to 'proc.get' %(number expected, got nil%)")
  assert.eq(assert.fails("no such process", proc.get(999999999)), "process 999999999: no such process")
  -- 3100 exited while being read: its stat is there, the rest is gone.
  assert.eq(assert.fails("no such process", proc.get(3100)), "process 3100: no such process")
  local p = assert(proc.get(2543))
  -- p:container() asks the engine, which does not know this fixture's container.
  assert.fails("no such container", p:container())
  assert.fails("process 1: not in a container", assert(proc.get(1)):container())
  assert.error_matches(function() p.environ() end, "ctrsh.Process expected")
end

function TestRealHost()
  local self = assert(proc.self())
  assert.gt(self.pid, 0)
  assert.eq(self.nspid[1], self.pid)
  assert.gt(self.rss, 0)
  assert.gt(self.start_time, 1.7e9)
  assert.truthy(self.exe)
  local env = assert(self:environ())
  assert.type(env, "table")
  local list = proc.list()
  assert.gt(#list, 1)
end

-- The acceptance test of the issue, against the private test engine.
function TestEngineBusybox()
  T.skip_unless_root()
  local id = engine.run("--memory", "64m", "--hostname", "ctrsh-proc-test", engine.busybox, "sleep", "1000")
  local pid = tonumber(engine.docker("inspect", "--format", "{{.State.Pid}}", id))
  local p = assert(proc.get(pid))
  assert.eq(p.nspid[#p.nspid], 1)
  assert.eq(p.pid_inside, 1)
  assert.eq(p.container_id, id)
  assert.eq(p.runtime, "docker")
  assert.eq(p:environ().HOSTNAME, "ctrsh-proc-test")
  local same, differ = ns.same(pid, proc.self().pid)
  assert.eq(same, false)
  for _, k in ipairs{"mnt", "pid", "uts", "ipc", "net"} do assert.contains(differ, k) end
  local m = assert(cgroup.of(pid):memory())
  assert.eq(m.limit, 64 * 1024 * 1024)
  assert.gt(m.usage, 0)
  assert.ge(m.max_usage, m.usage)
  assert.eq(m.unlimited, nil)
  -- The container's processes, host PIDs and PIDs inside side by side.
  local procs = proc.list{container = id}
  assert.eq(#procs, 1)
  assert.eq(procs[1].pid, pid)
  -- A second process inside has its own PID there.
  engine.docker("exec", "-d", id, "sleep", "999")
  local found
  for _ = 1, 100 do
    for _, q in ipairs(proc.list{container = id, comm = "^sleep$"}) do
      if q.pid ~= pid then found = q end
    end
    if found then break end
    sleep(0.05)
  end
  assert.truthy(found, "the exec'd sleep")
  assert.gt(found.pid_inside, 1)
  assert.eq(found.container_id, id)
end
