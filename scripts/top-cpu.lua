-- top-cpu: containers ranked by CPU over an interval, with quotas and throttling.
local pb = playbook{
  description = "Containers ranked by CPU use over an interval, with quotas, throttling and how close each is to its quota",
  args = {
    {name = "interval", type = "number", default = 1, help = "seconds to measure over"},
    {name = "count", type = "number", default = 10, help = "how many to show"},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

local rows = assert(containers.stats{interval = pb.args.interval, filters = pb.args.label and {label = pb.args.label} or nil})
table.sort(rows, function(a, b) return (a.cpu.percent or 0) > (b.cpu.percent or 0) end)
for i, s in ipairs(rows) do
  if i > pb.args.count then break end
  local c = s.cpu
  local quota = c.quota_cores
  emit{rank = i, container = s.name, cpu_percent = math.floor((c.percent or 0) * 10 + 0.5) / 10,
       quota_cores = quota or "unlimited",
       pct_of_quota = quota and math.floor((c.percent or 0) / quota * 10 + 0.5) / 10 or "-",
       nr_throttled = c.nr_throttled or "-", throttled_s = c.throttled_ns and c.throttled_ns / 1e9 or "-"}
end
