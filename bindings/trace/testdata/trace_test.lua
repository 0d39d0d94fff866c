-- trace module against the private test engine and the running kernel.

local function uniq(what)
  return string.format("trace-%s-%d-%d", what, os.time(), math.random(1e9))
end

-- collect reads an iterator until it ends, into an array.
local function collect(it)
  local out = {}
  for e in it do out[#out + 1] = e end
  return out
end

local function find(events, pred)
  for _, e in ipairs(events) do
    if pred(e) then return e end
  end
end

-- A container's execs, with argv and PIDs inside; not those of another
-- container or of the host, which run at the same time. The container runs
-- the issue's loop; busybox's sh runs `ls` as a no-exec applet (it forks and
-- calls ls's code without execve: the kernel sees an ls process exit, never
-- exec), so the loop also runs /bin/ls, which sh does exec.
function TestExecOfOneContainer()
  local name = uniq("it")
  local c = assert(docker.container(engine.run("--name", name, engine.busybox, "sh", "-c",
    "while true; do ls /; /bin/ls /; cat /etc/hostname; sleep 1; done")))
  local other = engine.run(engine.busybox, "sh", "-c", "while true; do /bin/ls /; sleep 0.2; done")
  local it = assert(trace.stream({"exec", "exit"}, {container = name, duration = 3.5}))
  os.execute("/bin/echo " .. name .. " >/dev/null")   -- an exec on the host, naming the container
  local evs, exits = {}, {}
  for e in it do
    if e.kind == "exec" then evs[#evs + 1] = e else exits[#exits + 1] = e end
  end
  assert.truthy(#evs >= 4, "execs in 3.5 s: " .. #evs)
  local ls = find(evs, function(e) return e.argv[1] == "/bin/ls" end)
  local cat = find(evs, function(e) return e.argv[1] == "cat" end)
  assert.truthy(ls, "an ls exec")
  assert.truthy(cat, "a cat exec")
  assert.eq(ls.argv, {"/bin/ls", "/"})
  assert.eq(ls.comm, "ls")
  assert.eq(ls.filename, "/bin/ls")
  assert.eq(cat.argv, {"cat", "/etc/hostname"})
  for _, e in ipairs(evs) do
    assert.eq(e.kind, "exec")
    assert.eq(e.container, name)
    assert.eq(e.container_id, c.id)
    assert.eq(e.ppid, c.pid, "the container's shell (PID 1 inside) ran it")
    assert.truthy(e.pid_inside > 1 and e.pid_inside < 100000, "pid inside " .. e.pid_inside)
    assert.ne(e.pid_inside, e.pid)
    assert.eq(e.uid, 0)
    assert.type(e.time, "number")
    assert.truthy(math.abs(e.time - now()) < 10, "time " .. e.time)
  end
  -- The plain `ls /` ran (its process exited) without an exec.
  local lsexit = find(exits, function(e) return e.comm == "ls" end)
  assert.truthy(lsexit, "an ls process exited")
  assert.falsy(find(evs, function(e) return e.argv[1] == "ls" end), "busybox sh does not exec ls")
  assert.falsy(find(evs, function(e) return e.container_id == other end), "another container's exec")
  assert.falsy(find(evs, function(e) return e.argv[2] == name end), "the host's exec")
end

-- Every container: this one's and the other's execs, never the host's.
function TestExecEveryContainer()
  local a = engine.run(engine.busybox, "sh", "-c", "while true; do /bin/ls /; sleep 0.3; done")
  local b = engine.run(engine.busybox, "sh", "-c", "while true; do cat /etc/hostname; sleep 0.3; done")
  local marker = uniq("host")
  local it = assert(trace.exec{duration = 2})
  os.execute("/bin/echo " .. marker .. " >/dev/null")
  local evs = collect(it)
  assert.truthy(find(evs, function(e) return e.container_id == a and e.argv[1] == "/bin/ls" end), "container a")
  assert.truthy(find(evs, function(e) return e.container_id == b and e.argv[1] == "cat" end), "container b")
  assert.falsy(find(evs, function(e) return e.argv[2] == marker end), "the host's exec")
  for _, e in ipairs(evs) do
    assert.matches(e.container_id, "^%x+$")
    assert.eq(#e.container_id, 64)
  end
end

-- c:trace is trace.* for one container; the callback form stops when fn
-- returns false.
function TestContainerTraceAndCallback()
  local c = assert(docker.container(engine.run(engine.busybox, "sh", "-c", "while true; do cat /etc/hostname; sleep 0.3; done")))
  local got = {}
  assert.eq(c:trace("exec", {duration = 10}, function(e)
    got[#got + 1] = e
    return #got < 2
  end), true)
  assert.eq(#got, 2)
  for _, e in ipairs(got) do assert.eq(e.container_id, c.id) end
  local evs = collect(assert(c:trace({"exec", "exit"}, {duration = 1.5})))
  assert.truthy(find(evs, function(e) return e.kind == "exec" end), "exec")
  local ex = find(evs, function(e) return e.kind == "exit" end)
  assert.truthy(ex, "exit")
  assert.eq(ex.code, 0)
  assert.is_nil(ex.signal)
end

-- busybox httpd on the container's loopback and a wget to it from inside:
-- the connection with both ends; a refused one too.
function TestConnect()
  local name = uniq("web")
  local c = assert(docker.container(engine.run("--name", name, engine.busybox, "sh", "-c",
    "httpd -f -p 127.0.0.1:8080 -h /etc & exec sleep 100000")))
  engine.docker("exec", name, "sh", "-c",
    "for i in $(seq 100); do wget -q -O /dev/null http://127.0.0.1:8080/hostname && exit 0; sleep 0.1; done; exit 1")
  local it, close = assert(trace.connect{container = name, duration = 20})
  engine.docker("exec", name, "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/hostname")
  engine.docker("exec", name, "sh", "-c", "wget -q -O /dev/null http://127.0.0.1:8081/ || true")
  local ok, refused
  for e in it do
    if e.dst_port == 8080 then ok = e end
    if e.dst_port == 8081 then refused = e end
    if ok and refused then break end
  end
  close()
  assert.truthy(ok, "the connection to 8080")
  assert.eq(ok.kind, "connect")
  assert.eq(ok.container, name)
  assert.eq(ok.container_id, c.id)
  assert.eq(ok.family, "ipv4")
  assert.eq(ok.src, "127.0.0.1")
  assert.eq(ok.dst, "127.0.0.1")
  assert.truthy(ok.src_port > 1024 and ok.src_port ~= 8080, "source port " .. ok.src_port)
  assert.eq(ok.result, "established")
  assert.is_nil(ok.errno)
  assert.truthy(ok.latency >= 0 and ok.latency < 5, "latency " .. ok.latency)
  assert.eq(ok.comm, "wget")
  assert.truthy(ok.pid_inside > 1)
  assert.truthy(refused, "the connection to 8081")
  assert.eq(refused.result, "refused")
  assert.eq(refused.errno, "ECONNREFUSED")
  assert.eq(refused.dst, "127.0.0.1")
end

-- The deterministic OOM of a non-PID-1 process: the victim's pid, comm and
-- container, its memcg, and its exit by SIGKILL. The kernel may kill more
-- than one process for one allocation (the OOM repeats while the first
-- victim is dying): the victims traced are as many as the cgroup counts.
function TestOOMVictimAndExit()
  local name = uniq("oom")
  local c = assert(docker.container(engine.run("--name", name, "--memory", "32m", "--memory-swap", "32m",
    engine.busybox, "sh", "-c",
    "while [ ! -f /tmp/go ]; do sleep 0.1; done; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail); exec sleep 100000")))
  local it = assert(trace.stream({"oom", "exit"}, {container = c.id, duration = 8}))
  engine.docker("exec", name, "touch", "/tmp/go")
  local ooms, exits = {}, {}
  for e in it do
    if e.kind == "oom" then ooms[#ooms + 1] = e end
    if e.kind == "exit" then exits[#exits + 1] = e end
  end
  assert.truthy(#ooms >= 1, "an oom event")
  local oom = ooms[1]
  assert.eq(oom.container, name)
  assert.eq(oom.container_id, c.id)
  assert.eq(oom.comm, "tail")
  assert.eq(oom.oom_score_adj, 1000)
  assert.matches(oom.memcg, c.id .. "$")
  for _, v in ipairs(ooms) do
    assert.truthy(v.pid > 0 and v.pid ~= c.pid, "victim pid " .. tostring(v.pid))
    assert.truthy(v.pid_inside > 1, "not PID 1 inside")
    local exit = find(exits, function(x) return x.pid == v.pid end)
    assert.truthy(exit, "the exit of victim " .. v.comm .. " " .. v.pid)
    assert.eq(exit.signal, 9)
    assert.eq(exit.signal_name, "KILL")
    assert.is_nil(exit.code)
    assert.eq(exit.comm, v.comm)
  end
  assert.eq(#ooms, c:cgroup():oom_kills(), "victims traced, kills the cgroup counted")
  assert.eq(c:refresh().state, "running", "the container survives its process's OOM kill")
end

-- Opens under /etc/, the prefix checked in the kernel; the shell's
-- /dev/null is not among them. An unanchored pattern is applied here.
function TestOpenPath()
  local c = assert(docker.container(engine.run(engine.busybox, "sh", "-c",
    "while true; do cat /etc/passwd > /dev/null; cat /nonexistent/etc/x 2>/dev/null; sleep 0.3; done")))
  local evs = collect(assert(trace.open{container = c.id, path = "^/etc/", duration = 2}))
  local passwd = find(evs, function(e) return e.path == "/etc/passwd" end)
  assert.truthy(passwd, "/etc/passwd opened")
  assert.eq(passwd.kind, "open")
  assert.eq(passwd.container_id, c.id)
  assert.truthy(passwd.fd >= 0, "an fd")
  assert.is_nil(passwd.errno)
  for _, e in ipairs(evs) do assert.matches(e.path, "^/etc/") end

  evs = collect(assert(c:trace("open", {path = "x$", duration = 2})))
  local missing = find(evs, function(e) return e.path == "/nonexistent/etc/x" end)
  assert.truthy(missing, "the failed open")
  assert.is_nil(missing.fd)
  assert.eq(missing.errno, "ENOENT")
  for _, e in ipairs(evs) do assert.matches(e.path, "x$") end
end

-- A one-page ring buffer and a reader that waits: the kernel drops events
-- and the stream says how many.
function TestLostEventsAreReported()
  local c = engine.run(engine.busybox, "sh", "-c", "while true; do cat /etc/passwd /etc/group > /dev/null; done")
  local it, close = assert(trace.open{container = c, buffer = 4096, duration = 20})
  sleep(2)
  local lost, opens = 0, 0
  for e in it do
    if e.kind == "lost" then
      assert.type(e.time, "number")
      lost = lost + e.lost
      if opens > 0 then break end
    else
      opens = opens + 1
      if lost > 0 then break end
    end
  end
  close()
  assert.truthy(lost > 0, "lost events reported")
  assert.truthy(opens > 0, "events delivered")
end

function TestBadArguments()
  assert.error_matches(function() trace.exec(5) end, "bad argument #1 .*table expected, got number")
  assert.error_matches(function() trace.exec{bogus = 1} end, "unknown option \"bogus\"")
  assert.error_matches(function() trace.exec{path = "^/etc"} end, "unknown option \"path\"")
  assert.error_matches(function() trace.open{path = "[a"} end, "option \"path\"")
  assert.error_matches(function() trace.exec{duration = "soon"} end, "invalid duration")
  assert.error_matches(function() trace.exec({}, 3) end, "bad argument #2")
  assert.error_matches(function() trace.stream("bogus") end, "unknown kind \"bogus\"")
  assert.error_matches(function() trace.stream({}) end, "bad argument #1")
  local c = assert(docker.container(engine.run(engine.busybox, "sleep", "1000")))
  assert.error_matches(function() c:trace() end, "bad argument #1 to 'c:trace' %(kind or array of kinds expected")
  local it, err = trace.exec{container = "no-such-container-" .. uniq("x")}
  assert.is_nil(it)
  assert.matches(err, "no such container")
  it, err = trace.exec{container = {}}
  assert.is_nil(it)
  assert.matches(err, "no container given")
end
