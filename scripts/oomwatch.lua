-- oomwatch: watch for OOM kills and save an incident bundle for each.
local pb = playbook{
  description = "Watch for OOM kills (cgroup counters and engine events); save an incident bundle for each",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "dir", default = "/var/lib/ctrsh/oom", help = "where incident bundles go"},
    {name = "poll", type = "number", default = 0.5, help = "seconds between cgroup counter reads"},
    {name = "lines", type = "number", default = 200, help = "log lines in each bundle"},
  },
}

assert(mkdir(pb.args.dir))

local function targets()
  if pb.args.container then
    local c = docker.container(pb.args.container)
    return c and {c} or {}
  end
  return docker.containers() or {}
end

local function oom_kills(c)
  local cg = c:cgroup()
  return cg and cg:oom_kills()
end

local function save(dir, name, v)
  local f = io.open(dir .. "/" .. name, "w")
  if not f then return end
  if type(v) == "string" then f:write(v) else f:write(json.encode(v, {indent = true}), "\n") end
  f:close()
end

local function bundle(c, kills, source)
  local dir = string.format("%s/%s-%s", pb.args.dir, os.date("!%Y%m%dT%H%M%SZ"), c.name)
  assert(mkdir(dir))
  local cg = c:cgroup()
  save(dir, "event.json", {container = c.name, id = c.id, oom_kills = kills, source = source, time = now()})
  save(dir, "memory.json", cg and cg:memory() or {})
  save(dir, "top.json", c:top() or {})
  local lines = {}
  local it = c:logs{tail = pb.args.lines, timestamps = true}
  if it then for l in it do lines[#lines + 1] = l.stream .. " " .. l.line end end
  save(dir, "logs.txt", table.concat(lines, "\n") .. "\n")
  save(dir, "inspect.json", c:inspect() or {})
  recent[c.id] = now()
  emit{container = c.name, oom_kills = kills or "?", source = source, bundle = dir}
end

-- Start from the counters as they are: only new kills are incidents.
local seen, pending, recent = {}, {}, {}
for _, c in ipairs(targets()) do seen[c.id] = oom_kills(c) or 0 end
local last = now()

while true do
  -- Engine oom events since the last look; the stream ends at `until`.
  local until_t = now() + pb.args.poll
  for e in events.stream{filters = {event = "oom"}, since = last, ["until"] = until_t} do
    -- One kill brings several engine events: those soon after a bundle are the same kill.
    if not recent[e.id] or e.time - recent[e.id] > 10 then
      pending[e.id] = pending[e.id] or 0
    end
  end
  last = until_t
  for _, c in ipairs(targets()) do
    local n = oom_kills(c)
    local before = seen[c.id]
    if n and before and n > before then
      seen[c.id], pending[c.id] = n, nil
      bundle(c, n, "cgroup")
    elseif n and not before then
      seen[c.id] = n
    elseif pending[c.id] then
      -- The engine saw an OOM the counter has not shown (yet): after two looks, bundle anyway.
      pending[c.id] = pending[c.id] + 1
      if pending[c.id] >= 2 then
        pending[c.id] = nil
        bundle(c, n, "engine")
      end
    end
  end
end
