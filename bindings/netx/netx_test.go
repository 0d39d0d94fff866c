package netx_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
)

func TestLua(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "path=%s\nsecond line\n", r.URL.Path)
	}))
	defer srv.Close()
	// A port nothing listens on: listen, note it, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	luatest.Run(t, "testdata/*_test.lua", luatest.WithSetup(func(t *testing.T, L *lua.LState) {
		L.SetGlobal("URL", lua.LString(srv.URL))
		L.SetGlobal("ADDR", lua.LString(srv.Listener.Addr().String()))
		L.SetGlobal("CLOSED", lua.LString(closed))
	}))
}

// net.dial keeps no goroutine per connection, closed or not; a connection
// nothing refers to is closed by collectgarbage(), and one left open by the
// end of its statement.
func TestDialHoldsNothingAfterClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The server side closes at once: the files counted are ctrsh's.
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	// extra waits a moment for the server's side to close, and returns
	// how many more files are open than at the start.
	var fds0 int
	extra := func(want int) int {
		for i := 0; i < 100 && fds()-fds0 > want; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		return fds() - fds0
	}
	L := luatest.NewState(t)
	L.SetGlobal("ADDR", lua.LString(l.Addr().String()))
	ctx, cancel := context.WithCancel(context.Background())
	L.SetContext(ctx)
	// Warm up what the first dial starts once (the netpoller).
	if err := L.DoString(`assert(net.dial(ADDR)):close()`); err != nil {
		t.Fatal(err)
	}
	g0 := runtime.NumGoroutine()
	time.Sleep(50 * time.Millisecond) // the server's side of the warm-up closes
	fds0 = fds()
	if err := L.DoString(`for i = 1, 100 do assert(net.dial(ADDR)):close() end`); err != nil {
		t.Fatal(err)
	}
	if g := runtime.NumGoroutine(); g > g0+1 {
		t.Errorf("%d goroutines after 100 dials and closes, %d before", g, g0)
	}
	if n := extra(0); n > 0 {
		t.Errorf("%d more files open after 100 dials and closes", n)
	}
	// Left open, then unreachable.
	if err := L.DoString(`for i = 1, 50 do local c = assert(net.dial(ADDR)) end collectgarbage()`); err != nil {
		t.Fatal(err)
	}
	if n := extra(1); n > 1 {
		t.Errorf("%d more files open after 50 abandoned dials and collectgarbage()", n)
	}
	if err := L.DoString(`kept = assert(net.dial(ADDR))`); err != nil {
		t.Fatal(err)
	}
	if n := extra(1); n < 1 {
		t.Errorf("a connection kept in a global is not open")
	}
	cancel() // the end of the statement
	L.RemoveContext()
	if n := extra(0); n > 0 {
		t.Errorf("%d more files open after the statement ended", n)
	}
	if err := L.DoString(`local ok, err = kept:read(1) assert(ok == nil and err:find("closed"), err)`); err != nil {
		t.Error(err)
	}
}
