-- env-audit: environment variables that look like secrets, per container, values masked.
local pb = playbook{
  description = "Environment variables that look like secrets, per container, with their values masked",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "pattern", default = "PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE|CERT|DSN|DATABASE_URL",
     help = "upper-case names containing any of these |-separated words are reported"},
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

local function mask(v)
  if #v <= 4 then return string.rep("*", #v) end
  return v:sub(1, 2) .. string.rep("*", math.min(#v - 2, 8)) .. " (" .. #v .. " chars)"
end

local targets = pb.args.container and {assert(docker.container(pb.args.container))} or assert(docker.containers())
for _, c in ipairs(targets) do
  local doc = assert(c:inspect())
  for _, kv in ipairs((doc.Config or {}).Env or {}) do
    local k, v = kv:match("^([^=]*)=(.*)$")
    if k and secretish(k) then
      emit{container = c.name, name = k, value = mask(v)}
    end
  end
end
