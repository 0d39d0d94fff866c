-- oomwatch: watch for OOM kills and save an incident bundle for each.
--
-- Two sources, because neither is enough alone: the cgroup's oom_kill counter
-- sees every kill (also one that leaves the container running, which the
-- engine does not report as OOMKilled), the runtimes' oom events also cover a
-- container whose init died, whose cgroup is gone by the time we look (a CRI
-- runtime reports those as a death with reason OOMKilled: an oom event too).
local pb = playbook{
  description = "Watch for OOM kills (cgroup counters and engine events); save an incident bundle for each",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "dir", default = "/var/lib/ctrsh/oom", help = "where incident bundles go"},
    {name = "poll", type = "number", default = 0.5, help = "seconds between cgroup counter reads"},
    {name = "lines", type = "number", default = 200, help = "log lines in each bundle"},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

assert(mkdir(pb.args.dir))

local function targets()
  if pb.args.container then
    local c = containers.get(pb.args.container)
    return (c and c.state == "running") and {c} or {}
  end
  return containers.list{filters = pb.args.label and {label = pb.args.label} or nil} or {}
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

local function stamp(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. string.format(".%06dZ", math.floor((t % 1) * 1e6))
end

local recent = {} -- container id -> time of its last bundle
local count = 0

-- bundle saves what there is to know about c right after an OOM kill.
-- engine_time is the time of the engine's first oom event for it, if any.
local function bundle(c, kills, source, engine_time)
  local t = now()
  count = count + 1
  local dir = string.format("%s/%s-%s-%d", pb.args.dir, os.date("!%Y%m%dT%H%M%SZ", math.floor(t)), c.name, count)
  assert(mkdir(dir))
  save(dir, "event.json", {container = c.name, id = c.id, oom_kills = kills, source = source,
                           time = t, engine_event_time = engine_time})
  local cg = c:cgroup()
  local mem = cg and cg:memory()
  if mem then mem.oom_kills = mem.oom_kills or kills end
  save(dir, "memory.json", mem or {error = "cgroup gone: the container is no longer running"})
  save(dir, "top.json", c:top() or {})
  local lines = {}
  local it = c:logs{tail = pb.args.lines}
  if it then for l in it do lines[#lines + 1] = stamp(l.time) .. " " .. l.stream .. " " .. l.line end end
  save(dir, "logs.txt", table.concat(lines, "\n") .. "\n")
  save(dir, "inspect.json", c:inspect() or {})
  recent[c.id] = t
  emit{container = c.name, oom_kills = kills or "?", source = source, bundle = dir}
end

-- Start from the counters as they are: only new kills are incidents. A
-- container that appears later starts from 0: any kill in it is new.
local seen, pending = {}, {}
for _, c in ipairs(targets()) do seen[c.id] = oom_kills(c) or 0 end
local last = now()
io.stderr:write("oomwatch: watching, bundles go to ", pb.args.dir, "\n")

while true do
  -- The engine's oom events since the last look; the stream ends at `until`,
  -- so this is also the pause between two reads of the counters.
  local until_t = now() + pb.args.poll
  local filters = {event = "oom"}
  if pb.args.label then filters.label = pb.args.label end
  if pb.args.container then
    local c = containers.get(pb.args.container)
    filters.container = c and c.id or pb.args.container
  end
  local evs = containers.events{filters = filters, since = last, ["until"] = until_t}
  if evs then
    for e in evs do
      -- One kill brings several engine events: those soon after a bundle are the same kill.
      if (not recent[e.id] or e.time - recent[e.id] > 10) and not pending[e.id] then
        pending[e.id] = {looks = 0, time = e.time}
      end
    end
  else
    sleep(pb.args.poll)
  end
  last = until_t

  local running = {}
  for _, c in ipairs(targets()) do
    running[c.id] = true
    local n = oom_kills(c)
    local before = seen[c.id] or 0
    if n and n > before then
      local p = pending[c.id]
      seen[c.id], pending[c.id] = n, nil
      bundle(c, n, "cgroup", p and p.time)
    elseif n then
      seen[c.id] = n
    end
  end
  -- The engine saw an OOM that no counter showed: the counter rises a moment
  -- after the event, so give it two looks, then bundle from the engine's word
  -- (also when the container is gone: its init was killed).
  for id, p in pairs(pending) do
    p.looks = p.looks + 1
    if p.looks >= 2 or not running[id] then
      pending[id] = nil
      local c = containers.get(id)
      if c then bundle(c, c.state == "running" and oom_kills(c) or nil, "engine", p.time) end
    end
  end
end
