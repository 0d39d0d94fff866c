-- The Lua 5.2-5.4 spellings ctrsh adds to Lua 5.1, and the 5.1 behaviour
-- they leave alone.

local function tempfile(content)
  local path = T.tempdir() .. "/f.txt"
  local f = assert(io.open(path, "w"))
  f:write(content)
  f:close()
  return path
end

function TestReadFormatsWithoutStar()
  -- (gopher-lua reads "*n", and so "n", with Go's fmt: decimal numbers,
  -- and no newline before them.)
  local path = tempfile("first line\nsecond\n42 16 -1.5e2\nrest\nno newline")
  local f = assert(io.open(path))
  assert.eq(f:read("l"), "first line")
  assert.eq(f:read("L"), "second\n")
  assert.eq({f:read("n", "n", "n")}, {42, 16, -150})
  assert.eq(f:read("L"), "\n")
  assert.eq(f:read("*L"), "rest\n")
  assert.eq(f:read("L"), "no newline")
  assert.eq(f:read("L"), nil)
  assert.eq(f:read("a"), "")
  assert.eq(f:read("l"), nil)
  f:close()
  -- The first example of README.md.
  assert.eq(io.open(path):read("a"), "first line\nsecond\n42 16 -1.5e2\nrest\nno newline")
  assert.eq(io.open(path):read("*all"), "first line\nsecond\n42 16 -1.5e2\nrest\nno newline")
  -- Several formats in one call stop at the first that fails.
  f = assert(io.open(path))
  f:read("a")
  assert.eq({f:read("L", "l", "l")}, {nil})
  f:close()
  f = assert(io.open(path))
  assert.eq({f:read("l", "L", "n", "L", "L", "l", "a", "l", "l")},
    {"first line", "second\n", 42, " 16 -1.5e2\n", "rest\n", "no newline", "", nil})
  f:close()
  assert.error_matches(function() io.open(path):read("x") end, "invalid format")
  assert.error_matches(function() io.open(path):read({}) end, "invalid format")
end

function TestReadFormatsLua51Unchanged()
  local path = tempfile("a b\n12\nlast")
  local f = assert(io.open(path))
  assert.eq(f:read(), "a b")
  assert.eq(f:read("*n"), 12)
  assert.eq(f:read("*l"), "")
  assert.eq(f:read(2), "la")
  assert.eq(f:read(0), "")
  assert.eq(f:read("*a"), "st")
  assert.eq(f:read(0), nil)
  assert.eq(f:read("*a"), "")
  f:close()
end

function TestIoReadDefaultInput()
  local path = tempfile("one\ntwo\n")
  local saved = io.input()
  io.input(path)
  assert.eq(io.read("l"), "one")
  assert.eq(io.read("L"), "two\n")
  assert.eq(io.read("a"), "")
  io.input():close()
  io.input(saved)
end

function TestLinesWithFormats()
  local path = tempfile("1 2 3 4")
  local got = {}
  for a, b in io.lines(path, "n", "n") do got[#got + 1] = a + b end
  assert.eq(got, {3, 7})
  path = tempfile("1 2\n3 4\n")
  got = {}
  for l in io.lines(path, "L") do got[#got + 1] = l end
  assert.eq(got, {"1 2\n", "3 4\n"})
  local f = assert(io.open(path))
  got = {}
  for l in f:lines("l") do got[#got + 1] = l end
  assert.eq(got, {"1 2", "3 4"})
  f:close()
  -- Without formats, Lua 5.1's lines.
  got = {}
  for l in io.lines(path) do got[#got + 1] = l end
  assert.eq(got, {"1 2", "3 4"})
  assert.error_matches(function() io.lines("/nonexistent/file", "l") end, "nonexistent")
end

function TestTablePackUnpack()
  assert.truthy(table.unpack == unpack)
  assert.eq({table.unpack({1, 2, 3})}, {1, 2, 3})
  assert.eq({table.unpack({1, 2, 3}, 2)}, {2, 3})
  assert.eq({table.unpack({1, 2, 3}, 2, 3)}, {2, 3})
  local t = table.pack(1, nil, 3, nil)
  assert.eq(t.n, 4)
  assert.eq({t[1], t[2], t[3]}, {1, nil, 3})
  assert.eq(table.pack().n, 0)
  -- A data stack that grows: thousands of values at once.
  local big = {}
  for i = 1, 20000 do big[i] = i end
  assert.eq(select("#", table.unpack(big)), 20000)
  local strs = {}
  for i = 1, 3000 do strs[i] = "xuxu" end
  assert.eq(#table.concat(strs, "123"), 3000 * 4 + 2999 * 3)
end

function TestMathToInteger()
  assert.eq(math.tointeger(3), 3)
  assert.eq(math.tointeger(3.0), 3)
  assert.eq(math.tointeger("8"), 8)
  assert.is_nil(math.tointeger(3.5))
  assert.is_nil(math.tointeger("x"))
  assert.is_nil(math.tointeger({}))
  assert.is_nil(math.tointeger(math.huge))
  assert.is_nil(math.tointeger(0 / 0))
  assert.error_matches(function() math.tointeger() end, "bad argument #1")
end

function TestStringRepWithSeparator()
  assert.eq(string.rep("ab", 3, ", "), "ab, ab, ab")
  assert.eq(("x"):rep(2, "-"), "x-x")
  assert.eq(string.rep("ab", 1, ","), "ab")
  assert.eq(string.rep("ab", 0, ","), "")
  assert.eq(string.rep("ab", 3), "ababab")
  assert.eq(string.rep("ab", -1), "")
  assert.error_matches(function() string.rep("x", 1e12) end, "too large")
end

function TestLoadString()
  local f = assert(load("return 1 + ..."))
  assert.eq(f(41), 42)
  local fn, err = load("return +")
  assert.is_nil(fn)
  assert.type(err, "string")
  local env = {x = 5}
  assert.eq(load("return x", "chunk", "t", env)(), 5)
  assert.eq({load("return 1", "chunk", "b")}, {nil, "attempt to load a text chunk (mode is 'b')"})
  -- Lua 5.1's load with a function still works.
  local parts = {"return ", "7"}
  local i = 0
  assert.eq(load(function() i = i + 1; return parts[i] end)(), 7)
end

function TestUTF8()
  assert.eq(utf8.char(72, 228, 8364, 128512), "H\195\164\226\130\172\240\159\152\128")
  assert.eq(utf8.char(), "")
  assert.eq(utf8.char(0xD800), "\237\160\128")
  assert.eq(utf8.char(0x7FFFFFFF), "\253\191\191\191\191\191")
  assert.error_matches(function() utf8.char(-1) end, "value out of range")
  local s = "häll€"
  assert.eq(utf8.len(s), 5)
  assert.eq(#s, 8)
  assert.eq(utf8.len(s, 4), 3)
  assert.eq({utf8.len(s, 3)}, {nil, 3}) -- byte 3 is inside the ä
  assert.eq(utf8.len(""), 0)
  assert.eq({utf8.len("a\255b")}, {nil, 2})
  assert.eq({utf8.len("\237\160\128")}, {nil, 1})
  assert.eq(utf8.len("\237\160\128", 1, -1, true), 1)
  assert.eq({utf8.codepoint(s, 1, -1)}, {104, 228, 108, 108, 8364})
  assert.eq(utf8.codepoint(s), 104)
  assert.eq(utf8.codepoint(s, 2), 228)
  assert.error_matches(function() utf8.codepoint(s, 3) end, "invalid UTF%-8 code")
  assert.error_matches(function() utf8.codepoint(s, 1, 100) end, "out of bounds")
  local got = {}
  for p, c in utf8.codes(s) do got[#got + 1] = p .. ":" .. c end
  assert.eq(got, {"1:104", "2:228", "4:108", "5:108", "6:8364"})
  assert.error_matches(function() for _ in utf8.codes("a\255") do end end, "invalid UTF%-8 code")
  assert.eq(utf8.offset(s, 3), 4)
  assert.eq(utf8.offset(s, -1), 6)
  assert.eq(utf8.offset(s, 0, 3), 2)
  assert.is_nil(utf8.offset(s, 10))
  local chars = {}
  for ch in s:gmatch(utf8.charpattern) do chars[#chars + 1] = ch end
  assert.eq(chars, {"h", "ä", "l", "l", "€"})
end
