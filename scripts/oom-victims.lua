-- oom-victims: the processes the OOM killer picks, in a container (or in
-- every container), live.
--
-- From the kernel (eBPF on oom:mark_victim): the victim's PID on the host
-- and inside, its command, its memory cgroup and oom_score_adj, and the
-- process whose allocation set the killer off. The engine reports only the
-- death of a container's init (State.OOMKilled); a killed worker that leaves
-- the container running shows here.
local pb = playbook{
  description = "Processes the OOM killer picks in a container (or in every container), live: pid, command, memcg",
  args = {
    {name = "container", help = "name or id (default: every container)", optional = true},
    {name = "for", help = "how long to watch: 60s, 10m (default: until Ctrl-C or --timeout)", optional = true},
  },
}

local it = assert(trace.oom{container = pb.args.container, duration = pb.args["for"]})
io.stderr:write("oom-victims: watching ", pb.args.container or "every container", "\n")
for e in it do
  if e.kind == "lost" then
    io.stderr:write("oom-victims: the kernel dropped ", e.lost, " events\n")
    emit{time = e.time, lost = e.lost}
  else
    emit{time = e.time, container = e.container, pid = e.pid, pid_inside = e.pid_inside, comm = e.comm,
         uid = e.uid, memcg = e.memcg, oom_score_adj = e.oom_score_adj, by_pid = e.by_pid, by_comm = e.by_comm}
  end
end
