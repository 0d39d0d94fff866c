-- ns.of and ns.same over fixture trees and real processes.

function TestOfAndSame()
  fixture("cgroupv2-systemd")
  local n = assert(ns.of(2543))
  assert.eq(n, {mnt = 4026532300, uts = 4026532301, ipc = 4026532302, pid = 4026532303, net = 4026532305,
    cgroup = 4026532306, user = 4026531837, time = 4026531834})
  local same, differ = ns.same(2543, 4242)
  assert.eq(same, false)
  assert.eq(differ, {"mnt", "pid", "net", "ipc", "uts", "cgroup"})
  same, differ = ns.same(2543, 2600)
  assert.eq(same, true)
  assert.eq(differ, {})
  assert.eq({ns.same(2543, 4242, "user")}, {true, {}})
  assert.eq({ns.same(2543, 4242, {"net", "user"})}, {false, {"net"}})
  assert.eq({ns.same("2543", 4242, {"time"})}, {true, {}})
  -- A kernel before 5.6: no time namespace, nil rather than 0.
  fixture("cgroupv1-old")
  n = assert(ns.of(2543))
  assert.is_nil(n.time)
  assert.eq(n.pid, 4026532303)
end

function TestBadInput()
  assert.error_matches(function() ns.of(0) end, "bad argument #1 to 'ns.of' %(pid must be positive%)")
  assert.error_matches(function() ns.of(-1) end, "bad argument #1 to 'ns.of' %(pid must be positive%)")
  assert.error_matches(function() ns.of({}) end, "bad argument #1 to 'ns.of' %(number or string expected, got table%)")
  assert.error_matches(function() ns.same(1) end, "bad argument #2 to 'ns.same'")
  assert.error_matches(function() ns.same(1, 1, "nope") end, "unknown namespace kind \"nope\"")
  assert.error_matches(function() ns.same(1, 1, 7) end, "bad argument #3 to 'ns.same' %(string or array expected, got number%)")
  assert.eq(assert.fails("no such process", ns.of(999999999)), "process 999999999: no such process")
  assert.fails("no such process", ns.same(proc.self().pid, 999999999))
  -- Container references go to the docker module.
  assert.fails('container "ctrsh%-no%-such%-container": no such container', ns.of("ctrsh-no-such-container"))
end

function TestRealProcesses()
  local self = proc.self().pid
  local mine = assert(ns.of(self))
  for _, k in ipairs{"mnt", "pid", "net", "ipc", "uts", "user"} do assert.gt(mine[k], 0, k) end
  assert.eq(assert(proc.self():ns()), mine)
  assert.eq({ns.same(self, self)}, {true, {}})
end

function TestHelpDocs()
  for _, name in ipairs{"of", "same", "enter", "run"} do
    assert.type(ns[name], "function", name)
  end
end
