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
  local it = events.stream{filters = {container = c.id, event = "die"}, since = c.created, ["until"] = now()}
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

local found = 0
local list = assert(docker.containers{all = true, filters = pb.args.label and {label = pb.args.label} or nil})
for _, c in ipairs(list) do
  if c.state == "restarting" or (c.restart_count or 0) >= pb.args.min then
    found = found + 1
    local doc = c:inspect() or {}
    local st = doc.State or {}
    local last = {}
    local it = c:logs{tail = pb.args.lines}
    if it then
      for l in it do last[#last + 1] = l.line end
    end
    -- State.ExitCode is the last death's while the container waits to restart
    -- or is stopped; during a run it is 0, and then only the events know.
    local codes = exits(c, 5)
    local code = codes[#codes]
    if st.Restarting or not st.Running then code = st.ExitCode end
    local strs = {}
    for i, n in ipairs(codes) do strs[i] = tostring(n) end
    emit{container = c.name, state = c.state, restart_count = c.restart_count, exit_code = code or "?",
         last_exit_codes = table.concat(strs, ","), oom_killed = st.OOMKilled, finished_at = st.FinishedAt,
         last_line = last[#last] or "", last_lines = table.concat(last, "\n")}
  end
end
if found == 0 then
  io.stderr:write("restart-loop: no container has restarted ", pb.args.min, " times or more\n")
end
