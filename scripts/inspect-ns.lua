-- inspect-ns: which namespaces a container shares with the host or with other containers.
local pb = playbook{
  description = "Which namespaces a container shares with the host or with other containers",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
  },
}

local kinds = {"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}
-- The host's namespaces are those of PID 1; ctrsh's own when it cannot read them.
local host = ns.of(1) or assert(ns.of(proc.self().pid))

local all = assert(containers.list())
local nss = {}
for _, c in ipairs(all) do
  nss[c.id] = c:ns()
end

local targets = all
if pb.args.container then
  targets = {assert(containers.get(pb.args.container))}
  nss[targets[1].id] = nss[targets[1].id] or targets[1]:ns()
end

for _, c in ipairs(targets) do
  local mine = nss[c.id]
  if not mine then
    io.stderr:write("inspect-ns: ", c.name, ": not running\n")
  else
    for _, kind in ipairs(kinds) do
      if mine[kind] then
        local with = {}
        if mine[kind] == host[kind] then with[#with + 1] = "host" end
        for _, other in ipairs(all) do
          local theirs = nss[other.id]
          if other.id ~= c.id and theirs and theirs[kind] == mine[kind] then
            with[#with + 1] = other.name
          end
        end
        emit{container = c.name, ns = kind, inode = mine[kind],
             shared = #with > 0, shared_with = table.concat(with, ",")}
      end
    end
  end
end
