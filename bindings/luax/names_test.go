package luax

import "testing"

func TestRewriteArgError(t *testing.T) {
	for _, tc := range []struct {
		msg, raw, name string
		method         bool
		want           string
		ok             bool
	}{
		{"x.lua:3: bad argument #1 to containers (table expected, got number)", "containers", "docker.containers", false,
			"x.lua:3: bad argument #1 to 'docker.containers' (table expected, got number)", true},
		{"bad argument #2 to (anonymous) (option \"tail\": integer expected, got 1.5)", "(anonymous)", "c:logs", true,
			"bad argument #1 to 'c:logs' (option \"tail\": integer expected, got 1.5)", true},
		{"x:1: bad argument #1 to logs (ctrsh.Container expected, got nil)", "logs", "c:logs", true,
			"x:1: calling 'c:logs' on bad self (ctrsh.Container expected, got nil)", true},
		{"bad argument #12 to <x.lua:4> (number expected, got nil)", "<x.lua:4>", "sleep", false,
			"bad argument #12 to 'sleep' (number expected, got nil)", true},
		// Not an argument error, or another function's: left alone.
		{"x:1: container \"web\": no such container", "container", "docker.container", false, "", false},
		{"bad argument #1 to other (number expected)", "mine", "docker.container", false, "", false},
		{"bad argument #x to mine (number expected)", "mine", "docker.container", false, "", false},
	} {
		got, ok := rewriteArgError(tc.msg, tc.raw, tc.name, tc.method)
		if got != tc.want || ok != tc.ok {
			t.Errorf("rewriteArgError(%q, %q, %q, %v) = %q, %v; want %q, %v", tc.msg, tc.raw, tc.name, tc.method, got, ok, tc.want, tc.ok)
		}
	}
}
