-- health: a cron check. Exit 3 with a summary when the engine does not answer, or a container is unhealthy, OOM-killed or restarting.
local pb = playbook{
  description = "Cron check: exits 3 naming an engine that does not answer and containers that are unhealthy, OOM-killed or restarting, 0 otherwise",
  args = {
    {name = "restarts", type = "number", default = 3, help = "restart count from which a container counts as restarting"},
    {name = "label", help = "only containers with this label: key or key=value (default: every container)", optional = true},
  },
}

local problems, checked = {}, 0
-- A runtime that does not answer is a finding itself; its containers are
-- then checked as its state on disk and the kernel show them.
local down = {}
for _, rt in ipairs(containers.runtimes()) do
  local why = rt.down or rt.error
  if why then
    emit{engine = "not answering", problem = why}
    down[#down + 1] = why
  end
end
local list = assert(containers.list{all = true, filters = pb.args.label and {label = pb.args.label} or nil})
for _, c in ipairs(list) do
  checked = checked + 1
  local reasons = {}
  -- Health checks are the engine's, Docker's or Podman's (Kubernetes probes are the kubelet's).
  local doc = (c.runtime == "docker" or c.runtime == "podman") and c:inspect() or {}
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
  elseif c.oom_killed then
    reasons[#reasons + 1] = "OOM-killed (exit " .. tostring(c.exit_code) .. ")"
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
for _, why in ipairs(down) do
  findings[#findings + 1] = "engine not answering: " .. why
end
if #problems > 0 then
  findings[#findings + 1] = string.format("%d of %d containers need attention: %s", #problems, checked, table.concat(problems, "; "))
end
if #findings > 0 then
  fail(table.concat(findings, "; "))
end
emit{status = "ok", containers = checked}
