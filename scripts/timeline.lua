-- timeline: one ordered history of a container, from the journal that
-- `ctrsh journal record` keeps (it outlives the engine's 256 events and its
-- restarts), with the last log lines before each death where the log still
-- has them.
local pb = playbook{
  description = "One ordered timeline of a container from the journal: created, started, health, OOM kills, deaths with exit codes, restarts, engine restarts",
  args = {
    {name = "container", help = "name, id or id prefix (also of a container removed since)"},
    {name = "since", default = "3h", help = "how far back: 10m, 3h, RFC 3339 or Unix seconds"},
    {name = "lines", type = "number", default = 5, help = "log lines to show before each death"},
    {name = "journal", help = "journal file (default $CTRSH_JOURNAL, else /var/lib/ctrsh/journal.db)", optional = true},
  },
}

local j = pb.args.journal and assert(journal.open(pb.args.journal))
local function events(opts)
  if j then return assert(j:events(opts)) end
  return assert(journal.events(opts))
end

local ref = pb.args.container
local rows = events{container = ref, since = pb.args.since}
local notes = events{source = "ctrsh", since = pb.args.since} -- engine down/up, recorder start/stop

-- The engine's bookkeeping events say nothing about the container's life.
local skip = {attach = true, detach = true, resize = true, top = true, exec_create = true, exec_start = true,
              exec_die = true, ["archive-path"] = true, ["extract-to-dir"] = true, copy = true, export = true,
              commit = true}

local function stamp(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. string.format(".%03dZ", math.floor((t % 1) * 1000))
end

-- A row written before its container's name was known (a kernel log line
-- read at start) gets the name the other rows of its id have.
local names = {}
for _, r in ipairs(rows) do
  if r.id and r.name and r.name ~= "" then names[r.id] = r.name end
end

local out = {}
local function add(t, name, event, detail, facts, sort_at)
  out[#out + 1] = {time = t, sort_at = sort_at or t, container = name or "", event = event, detail = detail or "",
                   facts = facts or {}, seq = #out}
end

-- OOM kills: the kernel's log names the victim, the cgroup counter counts;
-- rows of one kill (within 5 s) become one line. The engine's own oom
-- events (several for one kill) are shown only when nothing else saw it.
local kernel, counter, engine_oom = {}, {}, {}
for _, r in ipairs(rows) do
  if r.action == "oom_kill" and r.source == "kmsg" then kernel[#kernel + 1] = r
  elseif r.action == "oom_kill" then counter[#counter + 1] = r
  elseif r.action == "oom" then engine_oom[#engine_oom + 1] = r end
end
local used = {}
for _, k in ipairs(kernel) do
  local facts = {source = "kmsg", pid = k.pid, comm = k.comm, memcg = k.memcg}
  local detail = string.format("process %s (%s) killed", tostring(k.pid), tostring(k.comm))
  for i, c in ipairs(counter) do
    if not used[i] and c.id == k.id and math.abs(c.time - k.time) <= 5 then
      used[i] = true
      facts.oom_kills, facts.source = c.oom_kills, "kmsg+cgroup"
      detail = detail .. string.format("; oom_kills %d", c.oom_kills)
      break
    end
  end
  add(k.time, k.name or names[k.id], "oom_kill", detail, facts)
end
for i, c in ipairs(counter) do
  if not used[i] then
    add(c.time, c.name or names[c.id], "oom_kill", string.format("oom_kills %d (cgroup counter; +%s)", c.oom_kills, (c.attributes or {}).new or "?"),
        {source = c.source, oom_kills = c.oom_kills})
  end
end
local last_oom = -1e18
for _, e in ipairs(engine_oom) do
  local seen = false
  for _, r in ipairs(kernel) do if math.abs(r.time - e.time) <= 5 then seen = true end end
  for _, r in ipairs(counter) do if math.abs(r.time - e.time) <= 5 then seen = true end end
  if not seen and e.time - last_oom > 5 then
    add(e.time, e.name, "oom", "the engine reported an OOM", {source = "engine"})
    last_oom = e.time
  end
end

-- Lifecycle, with the log lines before each death.
local containers_get = containers.get -- any runtime's: the engine's, a Kubernetes node's
local containers = {} -- id -> Container, or false when its runtime no longer has it
local function container(id)
  if containers[id] == nil then containers[id] = containers_get(id) or false end
  return containers[id]
end
local last_death, died, run_start = {}, {}, {}
for _, r in ipairs(rows) do
  local a = r.action
  if (r.source == "engine" or r.source == "cri") and not skip[a] and a ~= "oom" then
    if a == "create" then
      add(r.time, r.name, "created", "image " .. tostring(r.image), {})
      died[r.id] = nil
    elseif a == "start" then
      if died[r.id] then
        local n = died[r.id].restart_count
        add(r.time, r.name, "restarted", n and ("restart count " .. n) or "", {restart_count = n})
      else
        add(r.time, r.name, "started", "", {})
      end
      died[r.id] = nil
      run_start[r.id] = r.time
    elseif a == "die" then
      local facts = {exit_code = r.exit_code, restart_count = r.restart_count, oom_killed = r.oom_killed}
      local parts = {"exit code " .. tostring(r.exit_code)}
      if r.oom_killed then parts[#parts + 1] = "OOM-killed" end
      if r.restart_count then parts[#parts + 1] = "restart count " .. r.restart_count end
      if (r.attributes or {}).reconciled == "true" then parts[#parts + 1] = "seen after an engine restart" end
      died[r.id] = r
      local death = {r.time, r.name, "died", table.concat(parts, ", "), facts}
      local c = pb.args.lines > 0 and container(r.id)
      -- The lines of this run: after the previous death (the engine stamps a
      -- run's first line before its start event), up to this one.
      local it = c and c:logs{since = (last_death[r.id] or (r.time - 3600)) + 0.001, ["until"] = r.time + 0.05, tail = -1}
      last_death[r.id] = r.time
      if it then
        local last = {}
        for l in it do
          last[#last + 1] = l
          if #last > pb.args.lines then table.remove(last, 1) end
        end
        -- In time order among the other rows, but never before the start
        -- of their run (the engine can stamp a run's first line before its
        -- start event) nor after the death.
        for _, l in ipairs(last) do
          add(l.time, r.name, "log", l.line, {stream = l.stream}, math.min(math.max(l.time, run_start[r.id] or l.time), r.time))
        end
      end
      add(unpack(death))
    elseif a:match("^health_status") then
      add(r.time, r.name, "health", (a:gsub("^health_status:%s*", "")), {})
    else
      local names = {destroy = "removed", kill = "killed", stop = "stopped", pause = "paused", unpause = "unpaused",
                     restart = "restarted (docker restart)", rename = "renamed"}
      local detail = ""
      if a == "kill" then detail = "signal " .. tostring((r.attributes or {}).signal) end
      add(r.time, r.name, names[a] or a, detail, {})
    end
  end
end

local down_at
for _, r in ipairs(notes) do
  if r.action == "engine_down" then
    add(r.time, "", "engine down", (r.attributes or {}).error or "", {})
    down_at = r.time
  elseif r.action == "engine_up" then
    add(r.time, "", "engine up", down_at and string.format("after %.1f s", r.time - down_at) or "", {})
    down_at = nil
  elseif r.action == "recorder_start" then
    add(r.time, "", "journal started", "recording from here", {})
  elseif r.action == "recorder_stop" then
    add(r.time, "", "journal stopped", "nothing recorded until it starts again", {})
  elseif r.action == "overflow" then
    add(r.time, "", "journal overflow", ((r.attributes or {}).dropped or "?") .. " rows dropped", {})
  end
end

if #rows == 0 then
  io.stderr:write("timeline: the journal has nothing about ", ref, " since ", pb.args.since, "\n")
  return
end

table.sort(out, function(a, b)
  if a.sort_at ~= b.sort_at then return a.sort_at < b.sort_at end
  return a.seq < b.seq
end)
for _, r in ipairs(out) do
  -- what: the line for people; with: the same facts for programs (--json).
  emit{time = r.time, at = stamp(r.time), container = r.container, event = r.event, what = r.detail, with = r.facts}
end
