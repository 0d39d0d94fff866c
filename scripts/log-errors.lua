-- log-errors: lines matching a pattern across containers since a time.
local pb = playbook{
  description = "Log lines matching a pattern across containers since a time",
  args = {
    {name = "pattern", default = "(?i)error|fatal|panic|exception", help = "Go regular expression"},
    {name = "since", default = "1h", help = "how far back: 10m, 2h, RFC 3339 or Unix seconds"},
    {name = "container", help = "name or id (default: every running container)", optional = true},
    {name = "label", help = "only containers with this label: key or key=value", optional = true},
  },
}

local targets = pb.args.container and {assert(containers.get(pb.args.container))} or assert(containers.list{filters = pb.args.label and {label = pb.args.label} or nil})
for i, c in ipairs(targets) do
  progress(i - 1, #targets, "log-errors: " .. c.name)
  local it, err = c:logs{since = pb.args.since, grep = pb.args.pattern, tail = -1}
  if not it then
    io.stderr:write("log-errors: ", err, "\n")
  else
    for l in it do
      emit{container = c.name, time = l.time, stream = l.stream, line = l.line}
    end
  end
end
progress(#targets, #targets)
