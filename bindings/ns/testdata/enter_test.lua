-- ns.enter and ns.run against the test engine's containers (as root).

local function start(image, ...)
  T.skip_unless_root()
  local id = engine.run("--hostname", "enter-test", image, ...)
  local pid = tonumber(engine.docker("inspect", "--format", "{{.State.Pid}}", id))
  assert.truthy(pid and pid > 0, "container pid")
  return pid, id
end

function TestEnterHostnameAndPs()
  local pid = start(engine.busybox, "sleep", "1000")
  local r = assert(ns.enter(pid, "hostname", {ns = {"mnt", "uts", "ipc", "net", "pid"}}))
  assert.eq(r.code, 0)
  assert.eq(r.stdout, "enter-test\n")
  r = assert(ns.enter(pid, "ps"))
  -- busybox ps: PID USER COMMAND; PID 1 is the container's init.
  assert.truthy(r.stdout:find("\n%s*1%s+%S+%s+sleep 1000"), r.stdout)
end

function TestEnterOnlyStdio()
  local pid = start(engine.busybox, "sleep", "1000")
  local r = assert(ns.enter(pid, {"ls", "/proc/self/fd"}))
  local fds = {}
  for fd in r.stdout:gmatch("%S+") do fds[#fds + 1] = fd end
  table.sort(fds)
  assert.eq(table.concat(fds, " "), "0 1 2 3")
end

function TestEnterCodes()
  local pid = start(engine.busybox, "sleep", "1000")
  assert.eq(assert(ns.enter(pid, {"sh", "-c", "kill -TERM $$"})).code, 143)
  assert.eq(assert(ns.enter(pid, "false")).code, 1)
  assert.eq(assert(ns.enter(pid, "echo a  b")).stdout, "a b\n") -- a string is split on spaces
  local r, err = ns.enter(pid, "no-such-tool")
  assert.eq(r, nil)
  assert.contains(err, "not found in the container")
  r, err = ns.enter(1, "true")
  assert.eq(r, nil)
  assert.contains(err, "refused")
end

function TestEnterJoinCgroup()
  local pid = start(engine.busybox, "sleep", "1000")
  local r = assert(ns.enter(pid, {"sh", "-c", "cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup"}, {join_cgroup = true}))
  local mine, init = r.stdout:match("^(.*)%-%-%-\n(.*)$")
  assert.eq(mine, init)
end

function TestRunDistroless()
  local pid = start(engine.distroless)
  assert.eq(assert(ns.run(pid, [[ return io.open("/etc/hostname"):read("*a") ]])), "enter-test\n")
  local t = assert(ns.run(pid, [[ local x = ... ; return {got = x, list = {1, 2, nil, 4}, [7] = "seven"} ]], {a = 1}))
  assert.eq(t.got.a, 1)
  assert.eq(t.list[4], 4)
  assert.eq(t[7], "seven")
  -- The chunk's state has ctrsh's modules, reading the container's /proc:
  -- its PID 1 is the container's init, the process the host knows as pid.
  local comm = ns.run(pid, [[ return proc and proc.get(1).comm ]])
  local f = assert(io.open("/proc/" .. pid .. "/comm"))
  local want = f:read("*l")
  f:close()
  assert.eq(comm, want)
end
