-- pidmap: host PID and PID inside for every process of one or all containers.
local pb = playbook{
  description = "Host PID and PID inside the container for every process of one or all containers",
  args = {
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

local targets
if pb.args.container then
  targets = {assert(containers.get(pb.args.container))}
else
  targets = assert(containers.list{filters = pb.args.label and {label = pb.args.label} or nil})
end

for _, c in ipairs(targets) do
  local rows, err = c:top()
  if not rows then
    io.stderr:write("pidmap: ", err, "\n")
  else
    for _, p in ipairs(rows) do
      emit{container = c.name, host_pid = p.pid, pid_inside = p.pid_inside,
           ppid = p.ppid, user = p.user or p.uid, cmd = p.cmd}
    end
  end
end
