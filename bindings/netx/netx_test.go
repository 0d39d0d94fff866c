package netx_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

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
