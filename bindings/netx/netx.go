// Package netx is the Lua `net` module: TCP connections and HTTP GET, so
// that a chunk run inside a container (c:run) can reach a server that
// listens only on the container's loopback, with no tool in the image.
package netx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

const defaultTimeout = 10 * time.Second

// Loader is the `net` module's loader.
func Loader(L *lua.LState) int {
	connType.Register(L)
	L.Push(luax.NewModule(L, "net", "net: TCP connections and HTTP GET (inside a container with c:run, its loopback)", []luax.Func{
		{Name: "dial", Doc: `net.dial(addr, {timeout=10}) --> Conn | nil, err: a TCP connection to "host:port"`, Fn: luaDial, Unsafe: true},
		{Name: "http_get", Doc: `net.http_get(url, {timeout=10, headers=}) --> {status=, headers=, body=} | nil, err`, Fn: luaHTTPGet, Unsafe: true},
	}))
	return 1
}

// conn is a TCP connection with a buffered reader: the Value of a Conn
// userdata. Its socket is released by conn:close(), by the end of the
// statement that dialled it, or when the userdata is collected (see
// luax.Hold), whichever comes first.
type conn struct {
	c   net.Conn
	r   *bufio.Reader
	res *connResource
}

// connResource closes the socket once. It refers to the socket only, not to
// the conn, so that the conn can be collected.
type connResource struct {
	c      net.Conn
	stop   func() bool // unregisters the close at the statement's end
	closed atomic.Bool
}

func (r *connResource) Release(error, bool) {
	if r.closed.CompareAndSwap(false, true) {
		r.stop()
		r.c.Close()
	}
}

func (r *connResource) Released() bool { return r.closed.Load() }

const connTypeName = "ctrsh.Conn"

var connType = &luax.Type{
	Name: connTypeName,
	Doc:  "Conn: a TCP connection (conn:write(s), conn:read(n | \"*l\" | \"*a\"), conn:close())",
	String: func(v any) string {
		c := v.(*conn)
		return fmt.Sprintf("<conn %s -> %s>", c.c.LocalAddr(), c.c.RemoteAddr())
	},
	Methods: []luax.Func{
		{Name: "write", Doc: "conn:write(s) --> true | nil, err", Fn: luaWrite, Unsafe: true},
		{Name: "read", Doc: `conn:read([n | "*l" | "*a"]) --> string | nil, err  (default "*l"; nil at end of stream)`, Fn: luaRead, Unsafe: true},
		{Name: "close", Doc: "conn:close() --> true", Fn: luaClose, Unsafe: true},
	},
}

func checkConn(L *lua.LState) *conn { return luax.CheckType(L, 1, connTypeName).(*conn) }

func timeout(L *lua.LState, o *luax.Options) time.Duration {
	if d, ok := o.Duration("timeout"); ok {
		return d
	}
	return defaultTimeout
}

// dial lua net.dial(addr, opts) returns Conn | nil, err.
func luaDial(L *lua.LState) int {
	addr := L.CheckString(1)
	o := luax.CheckOptions(L, 2, "timeout")
	d := net.Dialer{Timeout: timeout(L, o)}
	c, err := d.DialContext(luax.Ctx(L), "tcp", addr)
	if err != nil {
		return luax.Fail(L, fmt.Errorf("dial %s: %w", addr, unwrapOp(err)))
	}
	// Ctrl-C and --timeout close the connection, which ends a blocked read;
	// no goroutine waits for that meanwhile.
	res := &connResource{c: c}
	res.stop = context.AfterFunc(luax.Ctx(L), func() { res.Release(nil, false) })
	c.SetDeadline(time.Now().Add(timeout(L, o)))
	cn := &conn{c: c, r: bufio.NewReader(c), res: res}
	luax.Hold(L, cn, res, false)
	connType.Push(L, cn)
	return 1
}

func unwrapOp(err error) error {
	if op, ok := err.(*net.OpError); ok && op.Err != nil {
		return op.Err
	}
	return err
}

// interruptible makes a blocked read or write of c return when the current
// statement ends (the one that dialled c may be another: it closes c).
func interruptible(L *lua.LState, c *conn) (stop func() bool) {
	return context.AfterFunc(luax.Ctx(L), func() { c.c.SetDeadline(time.Unix(1, 0)) })
}

func luaWrite(L *lua.LState) int {
	c := checkConn(L)
	s := L.CheckString(2)
	defer interruptible(L, c)()
	if _, err := io.WriteString(c.c, s); err != nil {
		return luax.Fail(L, fmt.Errorf("write %s: %w", c.c.RemoteAddr(), unwrapOp(err)))
	}
	L.Push(lua.LTrue)
	return 1
}

func luaRead(L *lua.LState) int {
	c := checkConn(L)
	defer interruptible(L, c)()
	var (
		b   []byte
		err error
	)
	switch v := L.Get(2).(type) {
	case lua.LNumber:
		n := luax.CheckInteger(L, 2)
		if n < 0 {
			L.ArgError(2, fmt.Sprintf("count must not be negative, got %d", n))
		}
		// Up to n bytes, fewer at the end of the stream; the buffer grows
		// with what arrives, so a huge n reserves nothing.
		b, err = io.ReadAll(io.LimitReader(c.r, int64(n)))
		if err == nil && n > 0 && len(b) == 0 {
			err = io.EOF
		}
	case *lua.LNilType, lua.LString:
		switch format := strings.TrimPrefix(lua.LVAsString(v), "*"); format {
		case "", "l":
			var line string
			line, err = c.r.ReadString('\n')
			b = []byte(strings.TrimRight(line, "\r\n"))
			if err == io.EOF && line != "" {
				err = nil
			}
		case "a":
			b, err = io.ReadAll(c.r)
		default:
			L.ArgError(2, `"*l", "*a" or a number expected`)
		}
	default:
		L.ArgError(2, `"*l", "*a" or a number expected, got `+v.Type().String())
	}
	if err == io.EOF && len(b) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	if err != nil && err != io.EOF {
		luax.CheckCancel(L)
		return luax.Fail(L, fmt.Errorf("read %s: %w", c.c.RemoteAddr(), unwrapOp(err)))
	}
	L.Push(lua.LString(b))
	return 1
}

func luaClose(L *lua.LState) int {
	c := checkConn(L)
	c.res.Release(nil, true)
	L.Push(lua.LTrue)
	return 1
}

// http_get lua net.http_get(url, opts) returns {status, headers, body} | nil, err.
func luaHTTPGet(L *lua.LState) int {
	url := L.CheckString(1)
	o := luax.CheckOptions(L, 2, "timeout", "headers")
	req, err := http.NewRequestWithContext(luax.Ctx(L), http.MethodGet, url, nil)
	if err != nil {
		return luax.Fail(L, fmt.Errorf("GET %s: %w", url, err))
	}
	if h := o.TableOpt("headers"); h != nil {
		h.ForEach(func(k, v lua.LValue) { req.Header.Set(k.String(), v.String()) })
	}
	// No proxy: the address is the container's own loopback.
	client := &http.Client{Timeout: timeout(L, o), Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		luax.CheckCancel(L)
		return luax.Fail(L, fmt.Errorf("GET %s: %w", url, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return luax.Fail(L, fmt.Errorf("GET %s: reading the body: %w", url, err))
	}
	t := L.NewTable()
	t.RawSetString("status", lua.LNumber(resp.StatusCode))
	headers := L.NewTable()
	for k, v := range resp.Header {
		headers.RawSetString(strings.ToLower(k), lua.LString(strings.Join(v, ", ")))
	}
	t.RawSetString("headers", headers)
	t.RawSetString("body", lua.LString(body))
	L.Push(t)
	return 1
}
