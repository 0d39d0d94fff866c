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
