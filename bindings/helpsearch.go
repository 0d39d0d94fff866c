package bindings

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// searchHelp is help("word") when word names no module, function or type:
// every function, method and module whose doc mentions the word, and every
// playbook whose description does (help("oom") finds cg:oom_kills,
// cg:watch_oom and the oomwatch playbook). A mention starts at a word's
// start: "oom" matches "OOM kills" and "watch_oom", not "room".
func searchHelp(L *lua.LState, out io.Writer, word string) {
	w := strings.ToLower(strings.TrimSpace(word))
	if w == "" {
		fmt.Fprintln(out, "help(\"word\"): which word?")
		return
	}
	var docs []string
	for _, d := range luax.AllDocs(L) {
		if mentions(d, w) {
			docs = append(docs, d)
		}
	}
	var pbs []luax.PlaybookDoc
	if list := luax.GetEnv(L).Playbooks; list != nil {
		for _, p := range list() {
			if mentions(p.Name+" "+p.Description, w) {
				pbs = append(pbs, p)
			}
		}
	}
	if len(docs) == 0 && len(pbs) == 0 {
		fmt.Fprintf(out, "no function, module or playbook mentions %q (help() lists the modules)\n", word)
		return
	}
	if len(docs) > 0 {
		fmt.Fprintf(out, "functions and modules that mention %q:\n", word)
		for _, d := range docs {
			fmt.Fprintf(out, "  %s\n", d)
		}
	}
	if len(pbs) > 0 {
		fmt.Fprintf(out, "playbooks that mention %q (ctrsh run NAME --help):\n", word)
		for _, p := range pbs {
			fmt.Fprintf(out, "  %-14s %s\n", p.Name, p.Description)
		}
	}
}

// mentions reports whether text holds word (lower case) at the start of a
// word of its own: after a character that is not a letter or digit.
func mentions(text, word string) bool {
	t := strings.ToLower(text)
	for i := 0; ; {
		j := strings.Index(t[i:], word)
		if j < 0 {
			return false
		}
		at := i + j
		if at == 0 || !isAlnum(rune(t[at-1])) {
			return true
		}
		i = at + 1
	}
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
