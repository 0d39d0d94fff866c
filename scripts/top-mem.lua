-- top-mem: containers ranked by working set, with limits and how close each is to its limit.
local pb = playbook{
  description = "Containers ranked by memory working set, with limits, OOM kills and how close each is to its limit",
  args = {
    {name = "count", type = "number", default = 10, help = "how many to show"},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

local rows = assert(containers.stats{filters = pb.args.label and {label = pb.args.label} or nil})
table.sort(rows, function(a, b) return (a.memory.working_set or 0) > (b.memory.working_set or 0) end)
for i, s in ipairs(rows) do
  if i > pb.args.count then break end
  local m = s.memory
  local pct = m.limit and m.working_set and (100 * m.working_set / m.limit) or nil
  emit{rank = i, container = s.name, working_set = m.working_set, usage = m.usage, limit = m.limit or "unlimited",
       pct_of_limit = pct and math.floor(pct * 10 + 0.5) / 10 or "-", failcnt = m.failcnt or "-", oom_kills = m.oom_kills or "-"}
end
