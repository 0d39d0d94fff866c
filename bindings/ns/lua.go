package ns

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

const doc = "ns: namespaces of processes and containers: ids, comparison, entering them"

// Targets is what ns asks of the container runtimes: the process a target
// that is not a PID (a container name or id) names, pinned and checked to
// be the container's (the caller closes it). bindings.New gives it the
// containers module's Resolver.
type Targets interface {
	Target(L *lua.LState, ref string) (Target, error)
}

// Module is the ns module, whose targets may be containers, found through
// its Targets.
type Module struct {
	targets Targets
}

// New returns the ns module. With nil Targets, a target must be a PID.
func New(t Targets) *Module { return &Module{targets: t} }

// Loader is the ns module's loader for L.PreloadModule: ns.of, ns.same and
// the EnterFuncs (ns.enter, ns.run).
func (m *Module) Loader(L *lua.LState) int {
	all := append([]luax.Func{
		{Name: "of", Doc: "ns.of(target) --> {mnt=inode, net=, pid=, ipc=, uts=, user=, cgroup=, time=} | nil, err  (target: pid or container ref)", Fn: m.luaOf},
		{Name: "same", Doc: `ns.same(a, b [, kinds]) --> bool, array of kinds that differ | nil, err  (kinds: "net" or {"net", "pid"}; default all)`, Fn: m.luaSame},
	}, m.EnterFuncs()...)
	L.Push(luax.NewModule(L, "ns", doc, all))
	return 1
}

// of reads the namespaces of a target: those of the process pinned, when
// it still lives after the read.
func of(root string, t Target) (map[string]uint64, error) {
	m, err := Of(root, t.PID)
	if err == nil {
		err = t.Alive()
	}
	if err != nil {
		return nil, withSubject(t.Subject, t.PID, err)
	}
	return m, nil
}

// withSubject names the container when the target was one.
func withSubject(subject string, pid int, err error) error {
	if subject == "" || subject == fmt.Sprintf("process %d", pid) {
		return err
	}
	return fmt.Errorf("%s: %w", subject, err)
}

func (m *Module) luaOf(L *lua.LState) int {
	t, failed := m.checkTarget(L, 1)
	if failed != 0 {
		return failed
	}
	defer t.Close()
	ids, err := of(luax.HostRoot(L), t)
	if err != nil {
		return luax.Fail(L, err)
	}
	r := L.CreateTable(0, len(ids))
	for k, v := range ids {
		r.RawSetString(k, lua.LNumber(v))
	}
	L.Push(r)
	return 1
}

func (m *Module) luaSame(L *lua.LState) int {
	var kinds []string
	switch v := L.Get(3).(type) {
	case *lua.LNilType:
	case lua.LString, *lua.LTable:
		list, err := luax.StringList(v)
		if err != nil {
			L.ArgError(3, "kinds: "+err.Error())
		}
		for _, k := range list {
			if !validKind(k) {
				L.ArgError(3, fmt.Sprintf("unknown namespace kind %q (known: %s)", k, strings.Join(Kinds, ", ")))
			}
		}
		kinds = list
		if kinds == nil {
			kinds = []string{}
		}
	default:
		L.ArgError(3, "string or array expected, got "+luax.TypeName(L, 3))
	}
	a, failed := m.checkTarget(L, 1)
	if failed != 0 {
		return failed
	}
	defer a.Close()
	b, failed := m.checkTarget(L, 2)
	if failed != 0 {
		return failed
	}
	defer b.Close()
	root := luax.HostRoot(L)
	na, err := of(root, a)
	if err != nil {
		return luax.Fail(L, err)
	}
	nb, err := of(root, b)
	if err != nil {
		return luax.Fail(L, err)
	}
	same, diff, _ := compare(na, nb, kinds)
	L.Push(lua.LBool(same))
	L.Push(luax.ToLua(L, diff))
	return 2
}
