-- env-audit: environment variables that look like secrets, per container, values masked.
local pb = playbook{
  description = "Environment variables that look like secrets, per container, with their values masked",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "pattern", default = "PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE|CERT|DSN|DATABASE_URL",
     help = "upper-case names containing any of these |-separated words are reported"},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

local words = {}
for w in pb.args.pattern:gmatch("[^|]+") do words[#words + 1] = w end

local function secretish(name)
  local up = name:upper()
  for _, w in ipairs(words) do
    if up:find(w, 1, true) then return true end
  end
  return false
end

-- mask shows only the length: even a few characters of a short secret help
-- guess it, and the output goes to logs and tickets.
local function mask(v)
  if v == "" then return "(empty)" end
  return string.format("******** (%d chars)", #v)
end

local targets = pb.args.container and {assert(containers.get(pb.args.container))} or assert(containers.list{filters = pb.args.label and {label = pb.args.label} or nil})
-- env is the container's environment: as its runtime has it (c:env), or,
-- when its runtime does not answer (c.source == "disk") and its files on
-- disk do not say, its init's /proc/PID/environ.
local function env(c)
  local list, err = c:env()
  if list then return list end
  if c.source ~= "disk" then error(err, 0) end
  if c.pid == 0 then return {} end
  local p = assert(proc.get(c.pid))
  local vars = assert(p:environ())
  list = {}
  for k, v in pairs(vars) do list[#list + 1] = k .. "=" .. v end
  table.sort(list)
  return list
end

for _, c in ipairs(targets) do
  for _, kv in ipairs(env(c)) do
    local k, v = kv:match("^([^=]*)=(.*)$")
    if k and secretish(k) then
      emit{container = c.name, name = k, value = mask(v)}
    end
  end
end
