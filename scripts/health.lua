-- health: a cron check. Exit 3 with a summary when the engine does not answer, or a container is unhealthy, OOM-killed or restarting.
local pb = playbook{
  description = "Cron check: exits 3 naming an engine that does not answer and containers that are unhealthy, OOM-killed or restarting, 0 otherwise",
  args = {
    {name = "restarts", type = "number", default = 3, help = "restart count from which a container counts as restarting"},
    {name = "label", help = "only containers with this label: key or key=value (default: every container)", optional = true},
  },
}

local problems, checked = {}, 0
-- An engine that does not answer is a finding itself; the containers are
-- then checked as its state on disk and the kernel show them.
local answers, engine_down = docker.ping()
if not answers then
  emit{engine = "not answering", problem = engine_down}
end
local list = assert(docker.containers{all = true, filters = pb.args.label and {label = pb.args.label} or nil})
for _, c in ipairs(list) do
  checked = checked + 1
  local reasons = {}
  local doc = c:inspect() or {}
  local st = doc.State or {}
  if st.Health and st.Health.Status == "unhealthy" then
    reasons[#reasons + 1] = "unhealthy"
  end
  -- The engine only reports the init's death; the cgroup counter also sees
  -- kills of other processes that left the container running.
  local kills
  if c.state == "running" or c.state == "paused" then
    local cg = c:cgroup()
    kills = cg and cg:oom_kills()
  end
  if kills and kills > 0 then
    reasons[#reasons + 1] = string.format("OOM-killed (%d kill%s in its cgroup)", kills, kills == 1 and "" or "s")
  elseif st.OOMKilled then
    reasons[#reasons + 1] = "OOM-killed (exit " .. tostring(st.ExitCode) .. ")"
  end
  if c.state == "restarting" or (c.restart_count or 0) >= pb.args.restarts then
    reasons[#reasons + 1] = string.format("restarting (%d restarts)", c.restart_count or 0)
  end
  if #reasons > 0 then
    local why = table.concat(reasons, ", ")
    problems[#problems + 1] = c.name .. ": " .. why
    emit{container = c.name, state = c.state, problem = why}
  end
end

local findings = {}
if not answers then
  findings[#findings + 1] = "engine not answering: " .. engine_down
end
if #problems > 0 then
  findings[#findings + 1] = string.format("%d of %d containers need attention: %s", #problems, checked, table.concat(problems, "; "))
end
if #findings > 0 then
  fail(table.concat(findings, "; "))
end
emit{status = "ok", containers = checked}
