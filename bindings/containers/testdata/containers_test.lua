-- containers: every runtime as one list, against the Docker test engine and
-- the private containerd with its CRI plugin.

-- app runs a pod whose busybox container writes a numbered line to stdout
-- and one to stderr every 0.1 s.
local function app(prefix)
  node.endpoint()
  local pod = node.pod(node.name(prefix or "web"))
  local id = node.run(pod, "app", node.busybox, "sh", "-c",
    "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.1; done")
  return pod, id
end

local function find(list, id)
  for _, c in ipairs(list) do
    if c.id == id then return c end
  end
end

function TestListEveryRuntime()
  local pod, id = app()
  local did = engine.run(engine.busybox, "sleep", "1000")
  local list, warning = containers.list()
  assert.truthy(list, warning)
  assert.eq(warning, nil)
  local c = assert.truthy(find(list, id), "the pod's container is listed")
  assert.eq(c.runtime, "containerd")
  assert.eq(c.name, "app")
  assert.eq(c.pod.name, pod.name)
  assert.eq(c.pod.namespace, pod.namespace)
  local d = assert.truthy(find(list, did), "the Docker container is listed")
  assert.eq(d.runtime, "docker")
  assert.eq(d.pod, nil)
  -- filters: a pod, a runtime
  local only = assert(containers.list{filters = {pod = pod.name}})
  assert.eq(#only, 1)
  assert.eq(only[1].id, id)
  for _, c in ipairs(assert(containers.list{filters = {runtime = "docker"}})) do
    assert.eq(c.runtime, "docker")
  end
  local names = {}
  for _, r in ipairs(containers.runtimes()) do names[#names + 1] = r.name .. "/" .. r.kind end
  table.sort(names)
  assert.eq(names, {"containerd/cri", "docker/docker"})
  assert.error_matches(function() containers.list{filters = {nope = "x"}} end, 'unknown filter "nope"')
  assert.error_matches(function() containers.get({}) end, "bad argument #1")
end

-- The acceptance of issue 16 on a pod's container: top with the PIDs
-- inside, stats, logs (tail, grep), exec, enter.
function TestPodContainerMethods()
  local pod, id = app()
  local c = assert(containers.get(pod.name .. "/app"))
  assert.eq(c.id, id)
  assert.eq(c.runtime, "containerd")

  local rows = assert(c:top())
  local init
  for _, r in ipairs(rows) do
    if r.pid == c.pid then init = r end
  end
  assert.truthy(init, "top lists the init")
  assert.eq(init.pid_inside, 1)
  assert.eq(init.comm, "sh")

  local s = assert(c:stats())
  assert.eq(s.id, id)
  assert.gt(s.memory.usage, 0)
  assert.ge(s.pids.current, 1)
  assert.gt(s.cpu.usage_ns, 0)

  -- Enough lines for a tail.
  for _ = 1, 100 do
    local n = 0
    for _ in assert(c:logs{}) do n = n + 1 end
    if n >= 10 then break end
    sleep(0.1)
  end
  local tail = {}
  for l in assert(c:logs{tail = 3}) do tail[#tail + 1] = l end
  assert.eq(#tail, 3)
  for _, l in ipairs(tail) do
    assert.matches(l.line, "^[a-z]+ %d+$")
    assert.truthy(math.abs(l.time - now()) < 60)
  end
  local errs = 0
  for l in assert(c:logs{grep = "^err "}) do
    assert.eq(l.stream, "stderr")
    errs = errs + 1
  end
  assert.ge(errs, 5)
  local r = assert(c:exec({"sh", "-c", "echo out; exit 4"}))
  assert.eq(r, {code = 4, stdout = "out\n", stderr = ""})
  local r = assert(c:enter{"cat", "/proc/1/cmdline"})
  assert.eq(r.code, 0)
  assert.matches(r.stdout, "^sh\0")
  -- The references of other modules find it too.
  local p = assert(proc.get(c.pid))
  assert.eq(p:container().id, id)
  assert.eq(ns.same(c.pid, pod.name .. "/app"), true)
  local n = 0
  for _ in assert(logs.read(id, {tail = 2})) do n = n + 1 end
  assert.eq(n, 2)
end

-- c:run and c:enter in a distroless container (no shell, no /bin).
function TestDistrolessRunEnter()
  node.endpoint()
  local pod = node.pod(node.name("dl"))
  local id = node.run(pod, "server", node.distroless)
  local c = assert(containers.get(id))
  for _ = 1, 100 do
    local p = proc.get(c.pid)
    if p and p.comm == "server" then break end
    sleep(0.05)
  end
  assert.eq(c:run[[ return proc.get(1).comm ]], "server")
  assert.eq(c:run[[ return io.open("/proc/1/cmdline"):read("*a") ]], "/server\0")
  assert.fails("not found in the container", c:enter{"sh", "-c", "true"})
  local r = assert(c:enter{"/server", "-h"})
  assert.contains(r.stderr, "-tick")
  -- containerd writes the container's output to its log file on its own
  -- time: read it until the server's first line is there.
  local lines
  for _ = 1, 100 do
    lines = {}
    for l in assert(c:logs{}) do lines[#lines + 1] = l.line end
    if #lines > 0 then break end
    sleep(0.05)
  end
  assert.contains(lines, "server: pid 1, waiting for SIGTERM")
end

-- A name present in both Docker and containerd is an error naming both.
function TestSameNameInBothRuntimes()
  local name = node.name("dup")
  local did = engine.run("--name", name, engine.busybox, "sleep", "1000")
  local pod = node.pod(node.name("dup-pod"))
  local cid = node.run(pod, name, node.busybox, "sleep", "1000")
  local c, err = containers.get(name)
  assert.eq(c, nil)
  assert.matches(err, '^container "' .. name:gsub("%-", "%%-") .. '": ambiguous: in ')
  assert.contains(err, "docker (" .. did:sub(1, 12) .. " " .. name .. ")")
  assert.contains(err, "containerd (" .. cid:sub(1, 12) .. " ")
  -- Named with its runtime, or by another reference, each is found.
  assert.eq(assert(containers.get("containerd://" .. cid)).id, cid)
  assert.eq(assert(containers.get("docker://" .. did)).id, did)
  assert.eq(assert(containers.get(pod.name .. "/" .. name)).id, cid)
  assert.eq(assert(containers.get(did)).id, did)
  local c, err = containers.get("nope-" .. name)
  assert.eq(c, nil)
  assert.contains(err, "no such container (looked in docker, containerd)")
end

function TestStats()
  local pod, id = app()
  local rows = assert(containers.stats{filters = {pod = pod.name}})
  assert.eq(#rows, 1)
  assert.eq(rows[1].id, id)
  assert.eq(rows[1].runtime, "containerd")
  assert.eq(rows[1].pod.name, pod.name)
  assert.gt(rows[1].memory.usage, 0)
end

-- One stream for every runtime: a Docker container's death and a pod's,
-- each with its exit code and runtime.
function TestEventsEveryRuntime()
  local pod, id = app()
  local did = engine.run(engine.busybox, "sleep", "1000")
  local it, close = assert(containers.events{filters = {event = "die", container = {id, did}}})
  node.stop(id, 0)
  engine.docker("kill", did)
  local seen = {}
  for ev in it do
    seen[ev.id] = ev.attributes.runtime .. " " .. ev.attributes.exitCode
    if seen[id] and seen[did] then break end
  end
  close()
  assert.eq(seen[id], "containerd 137")
  assert.eq(seen[did], "docker 137")
end
