package luax

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
)

// TestEnvOption: env= has one behaviour wherever it is read (c:exec,
// c:enter, ns.enter): strings and numbers, as a table or an array; any
// other value raises an error naming the key.
func TestEnvOption(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
		err  string
	}{
		{`{B = "two", A = 1}`, []string{"A=1", "B=two"}, ""},
		{`{"X=1", "A=2"}`, []string{"X=1", "A=2"}, ""},
		{`{"X=1", B = 2.5}`, []string{"X=1", "B=2.5"}, ""},
		{`{}`, nil, ""},
		{`{A = true}`, nil, `option "env": key "A": string or number expected, got boolean`},
		{`{A = {}}`, nil, `option "env": key "A": string or number expected, got table`},
		{`{A = print}`, nil, `option "env": key "A": string or number expected, got function`},
		{`{"X=1", 5}`, nil, `option "env": element 2: "KEY=value" string expected, got number`},
		{`{"NOEQUALS"}`, nil, `option "env": element 1: "KEY=value" string expected, got "NOEQUALS"`},
		{`{[true] = "x"}`, nil, `option "env": key true: a variable name expected`},
		{`{["A=B"] = "x"}`, nil, `option "env": key "A=B": a variable name expected`},
	} {
		L := lua.NewState()
		var got []string
		L.SetGlobal("f", L.NewFunction(func(L *lua.LState) int {
			got = CheckOptions(L, 1, "env").Env("env")
			return 0
		}))
		err := L.DoString("f{env = " + tc.src + "}")
		L.Close()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("env = %s: error %v, want one containing %q", tc.src, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("env = %s: %v", tc.src, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("env = %s (-want +got):\n%s", tc.src, diff)
		}
	}
}

func TestCheckCommand(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
		err  string
	}{
		{`"ls  -l /"`, []string{"ls", "-l", "/"}, ""},
		{`{"sh", "-c", "echo a b"}`, []string{"sh", "-c", "echo a b"}, ""},
		{`""`, nil, "empty command"},
		{`{}`, nil, "empty command"},
		{`42`, nil, "string or array expected, got number"},
		{`{"sh", 1}`, nil, "array of strings expected: element 2 is not a string"},
	} {
		L := lua.NewState()
		var got []string
		L.SetGlobal("f", L.NewFunction(func(L *lua.LState) int {
			got = CheckCommand(L, 1)
			return 0
		}))
		err := L.DoString("f(" + tc.src + ")")
		L.Close()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("f(%s): error %v, want one containing %q", tc.src, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("f(%s): %v", tc.src, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("f(%s) (-want +got):\n%s", tc.src, diff)
		}
	}
}
