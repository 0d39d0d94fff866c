-- journal module: reading a journal written by the Go test (no engine at all).

local function actions(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = r.action end
  return out
end

function TestEventsInOrder()
  local rows = assert(journal.events{})
  assert.eq(actions(rows), {"create", "start", "create", "oom_kill", "oom_kill", "die", "start", "engine_down", "engine_up"})
  assert.eq(rows[1].time, BASE)
  assert.eq(rows[1].id, WEB_ID)
  assert.eq(rows[1].name, "web")
  assert.eq(rows[1].source, "engine")
  assert.eq(rows[1].type, "container")
  assert.eq(rows[1].image, "ctrsh-test/busybox")
  assert.eq(rows[1].attributes.name, "web")
  local die = rows[6]
  assert.eq(die.exit_code, 137)
  assert.eq(die.restart_count, 1)
  assert.eq(die.oom_killed, true)
  assert.eq(rows[8].attributes.error, "EOF")
  assert.eq(rows[8].id, nil)
end

function TestEventFilters()
  assert.eq(#assert(journal.events{container = "web"}), 6)
  assert.eq(#assert(journal.events{container = "db"}), 1)
  assert.eq(#assert(journal.events{container = WEB_ID:sub(1, 6)}), 6)
  assert.eq(#assert(journal.events{container = "nope"}), 0)
  local ooms = assert(journal.events{container = "web", action = "oom_kill"})
  assert.eq(#ooms, 2)
  local kmsg = assert(journal.events{action = "oom_kill", source = "kmsg"})
  assert.eq(#kmsg, 1)
  assert.eq(kmsg[1].pid, 4242)
  assert.eq(kmsg[1].comm, "tail")
  assert.eq(kmsg[1].memcg, "/docker/" .. WEB_ID)
  local cg = assert(journal.events{source = "cgroup"})
  assert.eq(cg[1].oom_kills, 1)
  assert.eq(actions(assert(journal.events{action = {"die", "create"}})), {"create", "create", "die"})
  assert.eq(actions(assert(journal.events{source = "ctrsh"})), {"engine_down", "engine_up"})
  assert.eq(actions(assert(journal.events{type = "engine"})), {"engine_down", "engine_up"})
  -- since and until: inclusive, as numbers, RFC 3339 or durations before now
  assert.eq(actions(assert(journal.events{since = BASE + 40, ["until"] = BASE + 41})), {"die", "start"})
  assert.eq(#assert(journal.events{since = "1h"}), 9)
  assert.eq(#assert(journal.events{since = "1s"}), 0)
  assert.eq(#assert(journal.events{["until"] = os.date("!%Y-%m-%dT%H:%M:%SZ", BASE + 1)}), 2)
  -- limit keeps the newest, oldest first
  assert.eq(actions(assert(journal.events{container = "web", limit = 2})), {"die", "start"})
  assert.eq(#assert(journal.events{limit = 0}), 9)
end

function TestSamples()
  local s = assert(journal.samples{container = "web"})
  assert.eq(#s, 3)
  assert.eq(s[1].time, BASE + 10)
  assert.eq(s[1].id, WEB_ID)
  assert.eq(s[1].name, "web")
  assert.eq(s[1].memory.working_set, 10 * 1024 * 1024)
  assert.eq(s[1].memory.limit, 32 * 1024 * 1024)
  assert.eq(s[1].memory.usage, nil)
  assert.eq(s[1].cpu.usage_ns, 5e9)
  assert.eq(#assert(journal.samples{container = "web", since = BASE + 20}), 2)
  assert.eq(#assert(journal.samples{container = "db"}), 0)
  assert.eq(#assert(journal.samples{limit = 1}), 1)
end

function TestOpen()
  assert.eq(journal.path(), JOURNAL)
  local j = assert(journal.open(JOURNAL))
  assert.eq(j.path, JOURNAL)
  assert.matches(tostring(j), "^<journal ")
  assert.eq(#assert(j:events{container = "web"}), 6)
  assert.eq(#assert(j:samples{}), 3)
  assert.eq(j:close(), true)
  assert.fails("closed", j:events{})
  assert.fails("no journal", journal.open(MISSING))
  assert.fails("not a ctrsh journal", journal.open(FOREIGN))
end

function TestMisuse()
  assert.error_matches(function() journal.events(3) end, "bad argument #1 to 'journal.events' %(table expected, got number%)")
  assert.error_matches(function() journal.events{bogus = 1} end, "unknown option")
  assert.error_matches(function() journal.events{since = "yesterday"} end, "invalid time")
  assert.error_matches(function() journal.events{limit = -1} end, "limit")
  assert.error_matches(function() journal.events{limit = "x"} end, "number expected")
  assert.error_matches(function() journal.events{action = {1}} end, "string or array of strings")
  assert.error_matches(function() journal.samples{action = "die"} end, "unknown option")
  assert.error_matches(function() journal.open() end, "bad argument #1 to 'journal.open' %(string expected, got ")
  assert.error_matches(function() journal.open("") end, "empty path")
  local j = assert(journal.open(JOURNAL))
  assert.error_matches(function() j.events({}) end, "ctrsh.Journal expected")
  j:close()
end
