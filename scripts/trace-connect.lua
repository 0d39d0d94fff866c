-- trace-connect: TCP connections a container (or every container) attempts,
-- live, with both ends and the outcome.
--
-- From the kernel (eBPF on sock:inet_sock_set_state): an attempt is shown
-- when it resolves, established, refused or timed out, with the time it
-- took. Works in images with no netstat, ss or tcpdump.
local pb = playbook{
  description = "TCP connections attempted in a container (or in every container), live: both ends and the outcome",
  args = {
    {name = "container", help = "name or id (default: every container)", optional = true},
    {name = "for", help = "how long to watch: 60s, 10m (default: until Ctrl-C or --timeout)", optional = true},
  },
}

local it = assert(trace.connect{container = pb.args.container, duration = pb.args["for"]})
io.stderr:write("trace-connect: watching ", pb.args.container or "every container", "\n")
for e in it do
  if e.kind == "lost" then
    io.stderr:write("trace-connect: the kernel dropped ", e.lost, " events (ctrsh fell behind)\n")
    emit{time = e.time, lost = e.lost}
  else
    emit{time = e.time, container = e.container, pid = e.pid, pid_inside = e.pid_inside, comm = e.comm,
         src = e.src, src_port = e.src_port, dst = e.dst, dst_port = e.dst_port, result = e.result,
         latency_ms = math.floor(e.latency * 1e6 + 0.5) / 1e3}
  end
end
