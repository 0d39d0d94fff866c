package bindings

import "testing"

func TestMentions(t *testing.T) {
	for text, want := range map[string]bool{
		"OOM kills": true, "cg:watch_oom(fn)": true, "oom_kills": true, "the oom-killer": true,
		"a room": false, "zoom": false, "": false, "boom oom": true,
	} {
		if got := mentions(text, "oom"); got != want {
			t.Errorf("mentions(%q, oom) = %v, want %v", text, got, want)
		}
	}
}
