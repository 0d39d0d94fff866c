package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ctrsh/ctrsh/"

// imports maps each package directory of the repository (relative, slash
// separated) to what its non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root := "../.."
	out := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if out[pkg] == nil {
			out[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[pkg][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][]string{}
	for pkg, set := range out {
		for p := range set {
			res[pkg] = append(res[pkg], p)
		}
		sort.Strings(res[pkg])
	}
	return res
}

// stdlib reports whether p is a standard library package (no dot in its
// first element).
func stdlib(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// ours returns p relative to the module when it is a ctrsh package.
func ours(p string) (string, bool) {
	return strings.CutPrefix(p, module)
}

var (
	hostModules    = []string{"bindings/proc", "bindings/cgroup", "bindings/ns", "bindings/netx"}
	runtimeModules = []string{"bindings/docker", "bindings/events", "bindings/logs", "bindings/cri",
		"bindings/containers", "bindings/journal", "bindings/trace", "bindings/top"}
)

func TestImportRules(t *testing.T) {
	all := imports(t)
	if len(all["bindings/luax"]) == 0 || len(all["nsenter"]) == 0 {
		t.Fatalf("found no imports of bindings/luax or nsenter: the walk is broken (%d packages)", len(all))
	}
	for pkg, imps := range all {
		for _, imp := range imps {
			if why := broken(pkg, imp); why != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, why)
			}
		}
	}
}

// broken says which rule pkg importing imp breaks, or "".
func broken(pkg, imp string) string {
	dep, isOurs := ours(imp)
	switch {
	case pkg == "nsenter":
		if !stdlib(imp) && !strings.HasPrefix(imp, "golang.org/x/sys/") {
			return "nsenter imports only the standard library and golang.org/x/sys"
		}
	case pkg == "bindings/luax" || pkg == "bindings/trust":
		if isOurs {
			return pkg + " imports no other ctrsh package"
		}
	case pkg == "bindings/tabular":
		if isOurs && dep != "bindings/luax" {
			return "bindings/tabular imports only bindings/luax of ctrsh"
		}
	case pkg == "repl":
		if isOurs && dep != "bindings/luax" {
			return "repl imports only bindings/luax of ctrsh: it is a Lua shell, not a container tool"
		}
	}
	if !isOurs {
		return ""
	}
	if strings.HasPrefix(pkg, "bindings/") && pkg != "bindings/luatest" {
		if dep == "bindings" || dep == "repl" || strings.HasPrefix(dep, "cmd/") {
			return "a module never imports bindings, repl or cmd"
		}
	}
	if contains(hostModules, pkg) && contains(runtimeModules, dep) {
		return "a host module imports no runtime module (the host works without an engine)"
	}
	if pkg != "cmd/ctrsh" && dep == "repl" {
		return "only cmd/ctrsh builds the shell"
	}
	if strings.HasPrefix(dep, "fixtures/") && !strings.HasPrefix(pkg, "fixtures/") && pkg != "bindings/luatest" {
		return "fixtures are for tests only"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestImportRulesCatch: each rule rejects what it should.
func TestImportRulesCatch(t *testing.T) {
	for _, tc := range []struct{ pkg, imp string }{
		{"nsenter", "github.com/yuin/gopher-lua"},
		{"nsenter", module + "bindings/luax"},
		{"bindings/luax", module + "bindings/docker"},
		{"bindings/trust", module + "bindings/luax"},
		{"bindings/tabular", module + "bindings/docker"},
		{"repl", module + "bindings"},
		{"bindings/docker", module + "bindings"},
		{"bindings/proc", module + "bindings/docker"},
		{"bindings/cgroup", module + "repl"},
		{"bindings/events", module + "fixtures/testengine"},
	} {
		if broken(tc.pkg, tc.imp) == "" {
			t.Errorf("%s importing %s is allowed; want a broken rule", tc.pkg, tc.imp)
		}
	}
	for _, tc := range []struct{ pkg, imp string }{
		{"nsenter", "golang.org/x/sys/unix"},
		{"bindings/ns", module + "nsenter"},
		{"bindings/docker", module + "bindings/cgroup"},
		{"cmd/ctrsh", module + "repl"},
		{"bindings/luatest", module + "fixtures/testengine"},
	} {
		if why := broken(tc.pkg, tc.imp); why != "" {
			t.Errorf("%s importing %s: %s; want allowed", tc.pkg, tc.imp, why)
		}
	}
}
