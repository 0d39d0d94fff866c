-- restart-loop: containers restarting repeatedly, with their last exit codes and log lines.
local pb = playbook{
  description = "Containers restarting repeatedly, with their last exit code and last log lines",
  args = {
    {name = "min", type = "number", default = 3, help = "restart count from which a container is reported"},
    {name = "lines", type = "number", default = 5, help = "log lines to show for each"},
  },
}

local found = 0
for _, c in ipairs(assert(docker.containers{all = true})) do
  if c.state == "restarting" or (c.restart_count or 0) >= pb.args.min then
    found = found + 1
    local doc = c:inspect() or {}
    local st = doc.State or {}
    local last = {}
    local it = c:logs{tail = pb.args.lines}
    if it then
      for l in it do last[#last + 1] = l.line end
    end
    emit{container = c.name, state = c.state, restart_count = c.restart_count, exit_code = st.ExitCode,
         oom_killed = st.OOMKilled, finished_at = st.FinishedAt, last_lines = table.concat(last, "\n")}
  end
end
if found == 0 then
  io.stderr:write("restart-loop: no container has restarted ", pb.args.min, " times or more\n")
end
