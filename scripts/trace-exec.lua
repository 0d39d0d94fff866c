-- trace-exec: the programs a container (or every container) executes, live.
--
-- From the kernel (eBPF on sched:sched_process_exec): every exec is seen,
-- also those of processes that live a millisecond, which docker top and ps
-- never catch. Host processes are filtered out in the kernel.
local pb = playbook{
  description = "Programs executed in a container (or in every container), live, from the kernel (eBPF)",
  args = {
    {name = "container", help = "name or id (default: every container)", optional = true},
    {name = "for", help = "how long to watch: 60s, 10m (default: until Ctrl-C or --timeout)", optional = true},
  },
}

local it = assert(trace.exec{container = pb.args.container, duration = pb.args["for"]})
io.stderr:write("trace-exec: watching ", pb.args.container or "every container", "\n")
for e in it do
  if e.kind == "lost" then
    io.stderr:write("trace-exec: the kernel dropped ", e.lost, " events (ctrsh fell behind)\n")
    emit{time = e.time, lost = e.lost}
  else
    emit{time = e.time, container = e.container, pid = e.pid, pid_inside = e.pid_inside, ppid = e.ppid,
         uid = e.uid, comm = e.comm, argv = e.argv}
  end
end
