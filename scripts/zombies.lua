-- zombies: defunct processes and their parents inside containers.
local pb = playbook{
  description = "Defunct (zombie) processes inside containers, with the parent that does not reap them",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

local targets = pb.args.container and {assert(containers.get(pb.args.container))} or assert(containers.list{filters = pb.args.label and {label = pb.args.label} or nil})
local found = 0
for _, c in ipairs(targets) do
  local rows = c:top()
  if rows then
    local byPid = {}
    for _, p in ipairs(rows) do byPid[p.pid] = p end
    for _, p in ipairs(rows) do
      if p.state == "Z" then
        found = found + 1
        local parent = byPid[p.ppid] or {}
        emit{container = c.name, pid = p.pid, pid_inside = p.pid_inside, comm = p.comm,
             ppid = p.ppid, ppid_inside = p.ppid_inside, parent_cmd = parent.cmd or "?"}
      end
    end
  end
end
if found == 0 then io.stderr:write("zombies: none\n") end
