package luax

import (
	"regexp"
	"testing"
)

// The regular expressions callNamePrefix and isIdent replaced: they must
// agree with them on every string.
var (
	oldCallNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*([.:][A-Za-z_][A-Za-z0-9_]*)*`)
	oldIdentRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// checkNames compares callNamePrefix and isIdent of s with the regular
// expressions.
func checkNames(t *testing.T, s string) {
	t.Helper()
	if got, want := callNamePrefix(s), oldCallNameRE.FindString(s); got != want {
		t.Errorf("callNamePrefix(%q) = %q; want %q", s, got, want)
	}
	if got, want := isIdent(s), oldIdentRE.MatchString(s); got != want {
		t.Errorf("isIdent(%q) = %v; want %v", s, got, want)
	}
}

// nameSeeds are docs and keys of every form, and near misses.
var nameSeeds = []string{
	"", "_", "a", "Z9", "9a", "a b", "a\n", "é", "aé", "a-b", "_x_1",
	"c:logs(opts) -> iterator", "io.read", "sleep(s)", "a.b.c:d e", "a.", "a:", "a.:b", "a..b",
	"a.9", "a.b.", "x:_y", ".a", ":a", "a.b:c.d:e", "a\xffb", "a.\xff",
}

func TestCallNamePrefixAndIsIdent(t *testing.T) {
	for _, s := range nameSeeds {
		checkNames(t, s)
	}
}

func FuzzCallNamePrefixAndIsIdent(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(checkNames)
}
