-- cri module against the private containerd with its CRI plugin (fixtures/cri.sh).

-- app runs a pod with one busybox container that writes a numbered line to
-- stdout and one to stderr every 0.1 s.
local function app(prefix)
  node.endpoint()
  local pod = node.pod(node.name(prefix or "web"))
  local id = node.run(pod, "app", node.busybox, "sh", "-c",
    "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.1; done")
  return pod, id
end

function TestVersion()
  node.endpoint()
  local v = assert(cri.version())
  assert.eq(v.runtime, "containerd")
  assert.eq(v.api_version, "v1")
  assert.eq(v.endpoint, node.endpoint())
  assert.truthy(v.runtime_version ~= "")
end

function TestContainersAndPods()
  local pod, id = app()
  local list = assert(cri.containers{filters = {pod = pod.name}})
  assert.eq(#list, 1)
  local c = list[1]
  assert.eq(c.id, id)
  assert.eq(c.name, "app")
  assert.eq(c.runtime, "containerd")
  assert.eq(c.source, "engine")
  assert.eq(c.state, "running")
  assert.eq(c.image, "ctrsh-test/busybox:latest")
  assert.eq(c.pod, {name = pod.name, namespace = pod.namespace, uid = pod.uid, id = pod.id})
  assert.truthy(c.pid > 0)
  assert.eq(proc.get(c.pid).container_id, id)
  assert.contains(tostring(c), "<container " .. pod.namespace .. "/" .. pod.name .. "/app " .. id:sub(1, 6))
  assert.matches(c.status, "^Up ")
  assert.eq(c.labels["io.kubernetes.pod.name"], pod.name)

  local pods = assert(cri.pods{filters = {name = pod.name}})
  assert.eq(#pods, 1)
  assert.eq(pods[1].id, pod.id)
  assert.eq(pods[1].state, "ready")
  assert.eq(pods[1].namespace, pod.namespace)

  -- inspect is the runtime's status and verbose info
  local doc = assert(c:inspect())
  assert.eq(doc.status.id, id)
  assert.eq(doc.status.state, "CONTAINER_RUNNING")
  assert.eq(doc.info.info.pid, c.pid)
end

function TestLookup()
  local pod, id = app()
  for _, ref in ipairs{id, id:sub(1, 12), pod.name, pod.name .. "/app", pod.namespace .. "/" .. pod.name .. "/app"} do
    local c, err = cri.container(ref)
    assert.truthy(c, ref .. ": " .. tostring(err))
    assert.eq(c.id, id, ref)
  end
  -- A second pod with a container of the same name: the name alone is ambiguous.
  local other, oid = app()
  local c, err = cri.container("app")
  assert.eq(c, nil)
  assert.matches(err, '^container "app": ambiguous: matches ')
  assert.contains(err, pod.name .. "/app")
  assert.contains(err, other.name .. "/app")
  assert.eq(cri.container(other.name .. "/app").id, oid)
  local c, err = cri.container("nope-" .. pod.name)
  assert.eq(c, nil)
  assert.eq(err, 'container "nope-' .. pod.name .. '": no such container')
  assert.error_matches(function() cri.container("") end, "bad argument #1")
  assert.error_matches(function() cri.containers{filters = {bogus = "x"}} end, 'unknown filter "bogus"')
end

-- A restarted container leaves its exited attempt: names mean the newest.
function TestLookupNewestAttempt()
  node.endpoint()
  local pod = node.pod(node.name("retry"))
  local first = node.run(pod, "job", node.busybox, "true")
  local c = assert(cri.container(first))
  assert.eq(c:wait(), 0)
  local second = node.run(pod, "job", node.busybox, "sleep", "1000")
  assert.eq(cri.container(pod.name .. "/job").id, second)
  local all = assert(cri.containers{all = true, filters = {pod = pod.name}})
  assert.eq(#all, 2)
  assert.eq(cri.container(first).state, "exited")
end

function TestExec()
  local pod, id = app()
  local c = assert(cri.container(id))
  local r = assert(c:exec({"sh", "-c", "echo out; echo err >&2; exit 7"}))
  assert.eq(r, {code = 7, stdout = "out\n", stderr = "err\n"})
  local r = assert(c:exec("cat /proc/1/cmdline"))
  assert.eq(r.code, 0)
  assert.contains(r.stdout, "sh")
  local r, err = c:exec("id", {user = "nobody"})
  assert.eq(r, nil)
  assert.contains(err, "ExecSync")
  local t0 = now()
  local r, err = c:exec({"sleep", "30"}, {timeout = 1})
  assert.eq(r, nil)
  assert.contains(err, "timed out")
  assert.truthy(now() - t0 < 15)
end

function TestLifecycle()
  local pod, id = app()
  local c = assert(cri.container(id))
  local ok, err = c:pause()
  assert.eq(ok, nil)
  assert.contains(err, "the CRI has no pause")
  assert(c:stop{timeout = 0})
  assert.eq(c:wait(), 137)
  c:refresh()
  assert.eq(c.state, "exited")
  assert.eq(c.exit_code, 137)
  assert.eq(c.pid, 0)
  assert.matches(c.status, "^Exited %(137%)")
  assert(c:start() == nil) -- an exited container cannot start again in the CRI
end

-- kill signals the init through a pidfd: the runtime sees it die.
function TestKill()
  local pod, id = app()
  local c = assert(cri.container(id))
  assert(c:kill("KILL"))
  assert.eq(c:wait(), 137)
end

-- A container killed through the CRI shows in cri.events with its exit code
-- (containerd 1.6 has no GetContainerEvents: its states are polled).
function TestEventsKill()
  local pod, id = app()
  local it, close = assert(cri.events{filters = {pod = pod.name}})
  node.stop(id, 0)
  local got = {}
  for ev in it do
    assert.eq(ev.id, id)
    got[#got + 1] = ev.action
    if ev.action == "die" then
      assert.eq(ev.attributes.exitCode, "137")
      assert.eq(ev.name, "app")
      assert.eq(ev.pod, {name = pod.name, namespace = pod.namespace, uid = pod.uid})
      assert.eq(ev.attributes.runtime, "containerd")
      assert.truthy(math.abs(ev.time - now()) < 10)
      break
    end
  end
  close()
  assert.eq(got, {"die"})
end

-- since: what the runtime's statuses still tell; until ends the stream.
function TestEventsSinceUntil()
  node.endpoint()
  local t0 = now()
  local pod = node.pod(node.name("hist"))
  local id = node.run(pod, "once", node.busybox, "sh", "-c", "exit 3")
  local c = assert(cri.container(id))
  assert.eq(c:wait(), 3)
  local got = {}
  for ev in cri.events{filters = {container = id}, since = t0, ["until"] = now() + 0.5} do
    got[#got + 1] = ev.action .. (ev.attributes.exitCode or "")
  end
  assert.eq(got, {"create", "start", "die3"})
  -- c:events is the same stream for one container
  local got = {}
  for ev in c:events{since = t0, ["until"] = now()} do got[#got + 1] = ev.action end
  assert.eq(got, {"create", "start", "die"})
end
