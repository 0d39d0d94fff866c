package luax_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want, line string }{
		{"plain text", "plain text", "plain text"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab", `two\nlines\tand a tab`},
		{"\x1b]0;TITLE\a\x1b[2J", `\x1b]0;TITLE\a\x1b[2J`, `\x1b]0;TITLE\a\x1b[2J`},
		{"cr\roverwrites", `cr\roverwrites`, `cr\roverwrites`},
		{"\x00\x01\b\f\v\x1f\x7f", `\x00\x01\b\f\v\x1f\x7f`, `\x00\x01\b\f\v\x1f\x7f`},
		{"c1 \u009b2J \u0085 \u0080\u009f", `c1 \u009b2J \u0085 \u0080\u009f`, `c1 \u009b2J \u0085 \u0080\u009f`},
		{"raw \x9b2J", `raw \x9b2J`, `raw \x9b2J`},
		{"cut \xe2\x82 and \xff", `cut \xe2\x82 and \xff`, `cut \xe2\x82 and \xff`},
		{"ünïcödé € 日本 🐳 \u00a0", "ünïcödé € 日本 🐳 \u00a0", "ünïcödé € 日本 🐳 \u00a0"},
		{`back\slash`, `back\slash`, `back\slash`},
	} {
		if got := luax.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := luax.EscapeLine(tc.in); got != tc.line {
			t.Errorf("EscapeLine(%q) = %q, want %q", tc.in, got, tc.line)
		}
	}
}

func TestTermWriter(t *testing.T) {
	var b bytes.Buffer
	w := luax.NewTermWriter(&b)
	in := "name \x1b]0;x\a\n"
	if n, err := w.Write([]byte(in)); n != len(in) || err != nil {
		t.Errorf("Write = %d, %v; want %d, nil", n, err, len(in))
	}
	if got := b.String(); got != "name \\x1b]0;x\\a\n" {
		t.Errorf("wrote %q", got)
	}
	if luax.Raw(w) != &b || luax.Raw(&b) != &b {
		t.Errorf("Raw does not unwrap")
	}
}

func TestMarshalJSONEscapesEveryControl(t *testing.T) {
	v := map[string]any{"s": "a\x1b[2J\x7f\u009b\u0085<\u2028é"}
	for _, indent := range []bool{false, true} {
		b, err := luax.MarshalJSON(v, indent)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range string(b) {
			if r < 0x20 && r != '\n' && r != ' ' || r == 0x7f || r >= 0x80 && r <= 0x9f {
				t.Errorf("MarshalJSON(indent=%v) = %q: control %U left as it is", indent, b, r)
			}
		}
		if !strings.Contains(string(b), `\u001b[2J\u007f\u009b\u0085`) {
			t.Errorf("MarshalJSON = %s", b)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil || back["s"] != v["s"] {
			t.Errorf("round trip: %q, %v", back["s"], err)
		}
	}
}
