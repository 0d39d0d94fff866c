-- net: TCP and HTTP GET against a server on this machine's loopback.

function TestHTTPGet()
  local r = assert(net.http_get(URL .. "/hello"))
  assert.eq(r.status, 418)
  assert.eq(r.headers["x-test"], "yes")
  assert.eq(r.body, "path=/hello\nsecond line\n")
end

function TestDialReadWrite()
  local c = assert(net.dial(ADDR, {timeout = 5}))
  assert.truthy(c:write("GET /raw HTTP/1.0\r\nHost: x\r\n\r\n"))
  assert.matches(c:read("*l"), "^HTTP/1%.[01] 418")
  local rest = c:read("*a")
  assert.contains(rest, "path=/raw\nsecond line\n")
  assert.is_nil(c:read("*l"))
  assert.truthy(c:close())
end

function TestFailuresAndMisuse()
  assert.fails("dial " .. CLOSED:gsub("%p", "%%%0") .. ": connect: connection refused", net.dial(CLOSED))
  assert.fails("refused", net.http_get("http://" .. CLOSED .. "/"))
  assert.error_matches(function() net.dial() end, "bad argument #1 to .*string expected")
  assert.error_matches(function() net.dial(ADDR, {bogus = 1}) end, 'unknown option "bogus"')
  assert.error_matches(function() net.http_get(URL, {timeout = "soon"}) end, "invalid duration")
end

function TestReadCountMisuseRaisesNamingTheMethod()
  local c = assert(net.dial(ADDR, {timeout = 5}))
  assert.error_matches(function() c:read(-1) end, "bad argument #1 to 'conn:read' %(count must not be negative, got %-1%)")
  assert.error_matches(function() c:read(1.5) end, "bad argument #1 to 'conn:read' %(integer expected, got 1.5%)")
  assert.error_matches(function() c:read(0/0) end, "bad argument #1 to 'conn:read' %(integer expected, got nan%)")
  assert.error_matches(function() c:read(1/0) end, "bad argument #1 to 'conn:read' %(integer expected, got inf%)")
  assert.error_matches(function() c:read("*x") end, "bad argument #1 to 'conn:read'")
  assert.error_matches(function() c:read({}) end, "bad argument #1 to 'conn:read'")
  assert.error_matches(function() c.read(nil) end, "calling 'conn:read' on bad self")
  -- A huge count reads what arrives until the end, without reserving it first.
  assert.truthy(c:write("GET /big HTTP/1.0\r\nHost: x\r\n\r\n"))
  local s = c:read(2^53)
  assert.contains(s, "path=/big\nsecond line\n")
  assert.is_nil(c:read(10))
  assert.eq(c:read(0), "")
  c:close()
  assert.error_matches(function() net.dial(ADDR, {timeout = 0/0}) end, "bad argument #2 to 'net.dial' %(option \"timeout\": invalid duration nan")
  assert.error_matches(function() net.dial(ADDR, {timeout = -1}) end, "bad argument #2 to 'net.dial' %(option \"timeout\": negative duration")
  assert.error_matches(function() net.dial(ADDR, {timeout = 1e300}) end, "bad argument #2 to 'net.dial' %(option \"timeout\": duration too long")
  assert.error_matches(function() net.dial(ADDR, {timeout = "Inf"}) end, "bad argument #2 to 'net.dial' %(option \"timeout\": invalid duration")
end
