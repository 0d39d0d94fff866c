-- c:enter and c:run: entering a container's namespaces natively (issue 5's acceptance).

local function uniq(prefix)
  return string.format("%s-%d-%d", prefix, os.time(), math.random(1e9))
end

-- start runs a container and waits until its init has exec'd its command.
local function start(...)
  local id = engine.run(...)
  local c = assert(docker.container(id))
  for _ = 1, 100 do
    local p = proc.get(c.pid)
    if p and not p.comm:find("runc") then break end
    sleep(0.05)
  end
  return c
end

function TestRunInDistroless()
  local name = uniq("distroless")
  local c = start("--name", name, "--hostname", "dl-host", engine.distroless)
  -- No shell in the image: c:enter of sh fails, c:run works.
  assert.fails("not found in the container", c:enter{"sh", "-c", "true"})
  -- Docker ends /etc/hostname with a newline, Podman does not.
  assert.eq((c:run[[ return io.open("/etc/hostname"):read("*a") ]]:gsub("\n$", "")), "dl-host")
  assert.eq(c:run[[ return proc.get(1).comm ]], "server")
  local t = c:run([[
    local a, b = ...
    return {name = a, list = {1, 2, b}, nested = {ok = true, [10] = "ten"}}, "second"
  ]], "x", 3)
  assert.eq(t, {name = "x", list = {1, 2, 3}, nested = {ok = true, [10] = "ten"}})
  local _, second = c:run([[ return 1, "second" ]])
  assert.eq(second, "second")
  -- An error inside comes back as nil, message.
  assert.fails("boom", c:run[[ error("boom") ]])
end

function TestRunReachesLoopbackServer()
  local c = start(engine.busybox, "sh", "-c",
    "echo hello-inside > /tmp/index.html; httpd -f -p 127.0.0.1:8080 -h /tmp")
  local r
  for _ = 1, 50 do
    r = c:run[[ return net.http_get("http://127.0.0.1:8080/index.html", {timeout = 2}) ]]
    if r then break end
    sleep(0.1)
  end
  assert.truthy(r, "no answer from httpd inside the container")
  assert.eq(r.status, 200)
  assert.eq(r.body, "hello-inside\n")
  -- A raw TCP connection too.
  local raw = c:run[[
    local s = assert(net.dial("127.0.0.1:8080"))
    s:write("GET /index.html HTTP/1.0\r\n\r\n")
    local all = s:read("*a")
    s:close()
    return all
  ]]
  assert.matches(raw, "^HTTP/1%.[01] 200")
  -- The server is on the container's loopback only: not reachable from here.
  assert.fails("refused", net.http_get("http://127.0.0.1:8080/index.html", {timeout = 2}))
end

function TestEnterChaptersStep()
  local c = start("--hostname", "web-host", engine.busybox, "sleep", "1000")
  local r = assert(c:enter({"hostname"}, {ns = {"mnt", "uts", "ipc", "net", "pid"}}))
  assert.eq(r.code, 0)
  assert.eq(r.stdout, "web-host\n")
  r = assert(c:enter{"ps"})
  local init
  for line in r.stdout:gmatch("[^\n]+") do
    local pid, cmd = line:match("^%s*(%d+)%s+%S+%s+(.*)$")
    if pid == "1" then init = cmd end
  end
  assert.eq(init, "sleep 1000")
end

function TestEnterPassesOnlyStdio()
  local c = start(engine.busybox, "sleep", "1000")
  local r = assert(c:enter{"ls", "/proc/self/fd"})
  local fds = {}
  for fd in r.stdout:gmatch("%d+") do fds[#fds + 1] = tonumber(fd) end
  table.sort(fds)
  -- 0, 1, 2, and the directory ls opened to list them.
  assert.eq(fds, {0, 1, 2, 3})
end

function TestEnterExitCodesAndErrors()
  local c = start(engine.busybox, "sleep", "1000")
  assert.eq(assert(c:enter{"sh", "-c", "kill -TERM $$"}).code, 143)
  assert.eq(assert(c:enter{"sh", "-c", "exit 7"}).code, 7)
  local r = assert(c:enter{"sh", "-c", "echo out; echo err >&2"})
  assert.eq(r.stdout, "out\n")
  assert.eq(r.stderr, "err\n")
  assert.fails('"no%-such%-tool": not found in the container', c:enter{"no-such-tool"})
  assert.error_matches(function() c:enter(42) end, "bad argument #%d to .*string or array expected")
  assert.error_matches(function() c:enter("true", {bogus = 1}) end, 'unknown option "bogus"')
  assert.error_matches(function() c:enter("true", {env = {A = {}}}) end, 'option "env": key "A": string or number expected, got table')
  -- Gone between lookup and entry: an error naming it, never another process.
  engine.docker("kill", c.id)
  assert.fails("not running", c:enter{"true"})
  assert.fails("not running", c:run[[ return 1 ]])
end

function TestEnterJoinsCgroup()
  local c = start("--memory", "64m", engine.busybox, "sleep", "1000")
  local init = assert(c:enter{"cat", "/proc/1/cgroup"}).stdout
  local joined = assert(c:enter({"cat", "/proc/self/cgroup"}, {join_cgroup = true})).stdout
  local apart = assert(c:enter{"cat", "/proc/self/cgroup"}).stdout
  assert.eq(joined, init)
  assert.ne(apart, init)
end

-- The language inside c:run is ctrsh's: pcall keeps upvalues (the snippets
-- of issue 11), and the Lua 5.2 spellings work there too.
function TestRunChunkLanguage()
  local c = start("--hostname", "lang-host", engine.distroless)
  local n, used, host, packed = c:run[[
    local n = 0
    local function try(f, ...) n = n + 1; return pcall(f, ...) end
    try(error, "x"); try(error, "y"); try(error, "z")
    local a
    local function use() return a("ok") end
    pcall(function() error("boom") end)
    a = function(s) return s end
    return n, use(), io.open("/etc/hostname"):read("a"), table.pack(table.unpack({1, 2})).n
  ]]
  -- Docker ends /etc/hostname with a newline, Podman does not.
  assert.eq({n, used, (host:gsub("\n$", "")), packed}, {3, "ok", "lang-host", 2})
end
