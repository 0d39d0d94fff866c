-- diag-bundle: one container's inspect, stats, top, ns, cgroup files and logs in one directory.
local pb = playbook{
  description = "One container's inspect, stats, top, namespaces, cgroup figures and logs in one directory, for a ticket",
  args = {
    {name = "container", help = "name or id"},
    {name = "dir", help = "where to write (default ./ctrsh-diag-NAME-TIME)", optional = true},
    {name = "lines", type = "number", default = 1000, help = "log lines to keep"},
  },
}

local c = assert(containers.get(pb.args.container))
local dir = pb.args.dir or string.format("ctrsh-diag-%s-%s", c.name, os.date("!%Y%m%dT%H%M%SZ"))
assert(mkdir(dir))

local function save(name, v)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  if type(v) == "string" then f:write(v) else f:write(json.encode(v, {indent = true}), "\n") end
  f:close()
end

local steps, step = 6, 0
local function try(name, fn)
  progress(step, steps, "diag-bundle: " .. name)
  step = step + 1
  local ok, v, err = pcall(fn)
  if ok and v ~= nil then save(name, v) else save(name .. ".error", tostring(ok and err or v) .. "\n") end
end

try("inspect.json", function() return c:inspect() end)
try("stats.json", function() return c:stats{interval = 1} end)
try("top.json", function() return c:top() end)
try("ns.json", function() return c:ns() end)
try("cgroup.json", function()
  local cg, err = c:cgroup()
  if not cg then return nil, err end
  return {path = cg.path, version = cg.version, memory = cg:memory(), cpu = cg:cpu(), pids = cg:pids(),
          io = cg:io(), procs = cg:procs(), oom_kills = cg:oom_kills()}
end)
try("logs.txt", function()
  local out = {}
  local it, err = c:logs{tail = pb.args.lines}
  if not it then return nil, err end
  for l in it do
    local stamp = os.date("!%Y-%m-%dT%H:%M:%S", math.floor(l.time)) .. string.format(".%06dZ", math.floor((l.time % 1) * 1e6))
    out[#out + 1] = string.format("%s %s %s", stamp, l.stream, l.line)
  end
  return table.concat(out, "\n") .. "\n"
end)
progress(steps, steps)
emit{container = c.name, dir = dir}
