package logs

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// A grep's prefilter: strings of which every line the regexp matches
// contains at least one, so that bytes.Index (far faster than the regexp)
// rules out the other lines. It is applied to messages only (never to a
// line's JSON, whose escapes could hide a match).

// requiredLiterals returns strings one of which every match of re
// contains, or nil when there is no such set worth searching for.
func requiredLiterals(re *regexp.Regexp) [][]byte {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	lits := required(tree.Simplify())
	if len(lits) == 0 || len(lits) > 8 {
		return nil
	}
	out := make([][]byte, len(lits))
	for i, l := range lits {
		if l == "" || !utf8.ValidString(l) {
			return nil
		}
		out[i] = []byte(l)
	}
	return out
}

// required is the literal set of one node: nil when a match of it need not
// contain any fixed string.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		return requiredConcat(re.Sub)
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := required(sub)
			if s == nil {
				return nil
			}
			out = append(out, s...)
		}
		return out
	}
	return nil
}

// requiredConcat picks the best set among a concatenation's parts, runs of
// literals joined: the one whose shortest string is longest.
func requiredConcat(subs []*syntax.Regexp) []string {
	var best []string
	consider := func(s []string) {
		if s != nil && shortest(s) > shortest(best) {
			best = s
		}
	}
	run := ""
	for _, sub := range subs {
		if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
			run += string(sub.Rune)
			continue
		}
		if run != "" {
			consider([]string{run})
			run = ""
		}
		consider(required(sub))
	}
	if run != "" {
		consider([]string{run})
	}
	return best
}

func shortest(s []string) int {
	if len(s) == 0 {
		return 0
	}
	n := len(s[0])
	for _, x := range s[1:] {
		n = min(n, len(x))
	}
	return n
}

// containsAny reports whether b contains one of lits.
func containsAny(b []byte, lits [][]byte) bool {
	for _, l := range lits {
		if len(l) == 1 {
			if bytes.IndexByte(b, l[0]) >= 0 {
				return true
			}
		} else if bytes.Contains(b, l) {
			return true
		}
	}
	return false
}
