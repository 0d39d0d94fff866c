// Package scripts holds the bundled playbooks, embedded in the binary:
// `ctrsh run NAME` finds them after /etc/ctrsh/playbooks and
// ~/.config/ctrsh/playbooks.
package scripts

import (
	"embed"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

//go:embed *.lua
var bundled embed.FS

// Names lists the bundled playbooks, sorted.
func Names() []string {
	entries, _ := bundled.ReadDir(".")
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lua") {
			names = append(names, strings.TrimSuffix(e.Name(), ".lua"))
		}
	}
	sort.Strings(names)
	return names
}

// Source returns the source of a bundled playbook.
func Source(name string) ([]byte, bool) {
	b, err := bundled.ReadFile(path.Clean(name) + ".lua")
	return b, err == nil
}

// descRE finds playbook{description = ...}. It is compiled on first use
// (a listing of the playbooks), not at the start of every ctrsh run.
var descRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)description\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|\[\[(.*?)\]\])`)
})

// Description finds the one-line description a playbook declares with
// playbook{description = "..."}, without running it.
func Description(src []byte) string {
	m := descRE().FindSubmatch(src)
	if m == nil {
		return ""
	}
	for _, g := range m[1:] {
		if len(g) > 0 {
			s := strings.TrimSpace(string(g))
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[:i]
			}
			return s
		}
	}
	return ""
}
