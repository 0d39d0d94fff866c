-- restart-loop: containers restarting repeatedly, with their last exit codes and log lines.
local pb = playbook{
  description = "Containers restarting repeatedly, with their last exit codes and last log lines",
  args = {
    {name = "min", type = "number", default = 3, help = "restart count from which a container is reported"},
    {name = "lines", type = "number", default = 5, help = "log lines to show for each"},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

-- exits returns the exit codes of c's last deaths, oldest first, from the
-- engine's die events: as many as the engine still keeps in memory (a few
-- hundred events, for all containers; none from before its own restart).
local function exits(c, keep)
  local codes = {}
  local it = c:events{filters = {event = "die"}, since = c.created, ["until"] = now()}
  if not it then return codes end
  for e in it do
    local code = tonumber((e.attributes or {}).exitCode)
    if code then
      codes[#codes + 1] = code
      if #codes > keep then table.remove(codes, 1) end
    end
  end
  return codes
end

local list = assert(containers.list{all = true, filters = pb.args.label and {label = pb.args.label} or nil})

-- On a Kubernetes node a restart is a new container of the same name in the
-- pod (its restart_count is the attempt): the newest stands for them all,
-- and the older attempts the runtime still keeps give the last exit codes.
local attempts = {}
local function key(c) return c.pod.namespace .. "/" .. c.pod.name .. "/" .. c.name end
for _, c in ipairs(list) do
  if c.pod then
    local k = key(c)
    attempts[k] = attempts[k] or {}
    table.insert(attempts[k], c)
  end
end
for _, l in pairs(attempts) do
  table.sort(l, function(a, b) return a.restart_count < b.restart_count end)
end

local found = 0
for _, c in ipairs(list) do
  local tries = c.pod and attempts[key(c)]
  local newest = not tries or tries[#tries] == c
  if newest and (c.state == "restarting" or (c.restart_count or 0) >= pb.args.min) then
    found = found + 1
    local last = {}
    local it = c:logs{tail = pb.args.lines}
    if it then
      for l in it do last[#last + 1] = l.line end
    end
    local codes = {}
    if tries then
      for _, t in ipairs(tries) do
        if t.state == "exited" then codes[#codes + 1] = t.exit_code end
      end
      while #codes > 5 do table.remove(codes, 1) end
    else
      codes = exits(c, 5)
    end
    -- c.exit_code is the last death's while the container waits to restart
    -- or is stopped; during a run it is 0, and then only the events know.
    local code = codes[#codes]
    if c.state ~= "running" and c.state ~= "paused" then code = c.exit_code end
    local strs = {}
    for i, n in ipairs(codes) do strs[i] = tostring(n) end
    emit{container = c.name, state = c.state, restart_count = c.restart_count, exit_code = code or "?",
         last_exit_codes = table.concat(strs, ","), oom_killed = c.oom_killed,
         finished_at = c.finished_at and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(c.finished_at)) or "",
         last_line = last[#last] or "", last_lines = table.concat(last, "\n")}
  end
end
if found == 0 then
  io.stderr:write("restart-loop: no container has restarted ", pb.args.min, " times or more\n")
end
