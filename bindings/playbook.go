package bindings

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
)

// PlaybookArg is one declared argument of a playbook.
type PlaybookArg struct {
	Name     string
	Help     string
	Default  lua.LValue // LNil when none
	Optional bool
	Flag     bool   // a boolean --name switch
	Type     string // "string" (default) or "number"
}

// Playbook is what playbook{...} declares.
type Playbook struct {
	Name        string
	Description string
	Args        []PlaybookArg
}

// Usage renders the help text of a playbook.
func (pb *Playbook) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s", pb.Name)
	for _, a := range pb.Args {
		switch {
		case a.Flag:
			fmt.Fprintf(&b, " [--%s]", a.Name)
		case a.Optional || a.Default != lua.LNil:
			fmt.Fprintf(&b, " [%s]", a.Name)
		default:
			fmt.Fprintf(&b, " %s", a.Name)
		}
	}
	b.WriteString("\n")
	if pb.Description != "" {
		fmt.Fprintf(&b, "\n%s\n", pb.Description)
	}
	if len(pb.Args) > 0 {
		b.WriteString("\narguments (positional, or --name VALUE):\n")
		for _, a := range pb.Args {
			line := "  " + a.Name
			if a.Flag {
				line = "  --" + a.Name
			}
			extra := a.Help
			if a.Default != lua.LNil {
				extra += fmt.Sprintf(" (default %s)", a.Default.String())
			} else if a.Optional {
				extra += " (optional)"
			}
			fmt.Fprintf(&b, "%-22s %s\n", line, strings.TrimSpace(extra))
		}
	}
	return b.String()
}

// DeclarePlaybook reads the table given to playbook{...}.
func DeclarePlaybook(L *lua.LState, t *lua.LTable, name string) *Playbook {
	o := luax.CheckOptions(L, 1, "description", "args", "name")
	pb := &Playbook{Name: o.String("name", name), Description: o.String("description", "")}
	args := o.TableOpt("args")
	if args == nil {
		return pb
	}
	for i := 1; i <= args.Len(); i++ {
		at, ok := args.RawGetInt(i).(*lua.LTable)
		if !ok {
			L.ArgError(1, fmt.Sprintf("args[%d]: table expected", i))
		}
		a := PlaybookArg{Default: at.RawGetString("default")}
		if s, ok := at.RawGetString("name").(lua.LString); ok && s != "" {
			a.Name = string(s)
		} else {
			L.ArgError(1, fmt.Sprintf("args[%d]: name (string) expected", i))
		}
		a.Help = lua.LVAsString(at.RawGetString("help"))
		a.Optional = lua.LVAsBool(at.RawGetString("optional"))
		a.Flag = lua.LVAsBool(at.RawGetString("flag"))
		a.Type = lua.LVAsString(at.RawGetString("type"))
		if a.Type == "" {
			a.Type = "string"
		}
		if a.Type != "string" && a.Type != "number" {
			L.ArgError(1, fmt.Sprintf("args[%d]: type must be \"string\" or \"number\"", i))
		}
		pb.Args = append(pb.Args, a)
	}
	return pb
}

// Parse matches the script's arguments (Lua's arg table) against the
// declaration. --help is reported as help=true.
func (pb *Playbook) Parse(argv []string) (values map[string]any, help bool, err error) {
	values = map[string]any{}
	byName := map[string]*PlaybookArg{}
	for i := range pb.Args {
		byName[pb.Args[i].Name] = &pb.Args[i]
	}
	var positional []string
	for i := 0; i < len(argv); i++ {
		s := argv[i]
		switch {
		case s == "--":
			positional = append(positional, argv[i+1:]...)
			i = len(argv)
		case s == "--help" || s == "-h":
			return nil, true, nil
		case strings.HasPrefix(s, "--"):
			name, val, hasVal := strings.Cut(s[2:], "=")
			a := byName[name]
			if a == nil {
				return nil, false, fmt.Errorf("unknown argument --%s", name)
			}
			if a.Flag {
				if hasVal {
					b, perr := strconv.ParseBool(val)
					if perr != nil {
						return nil, false, fmt.Errorf("argument --%s: %q is not true or false", name, val)
					}
					values[name] = b
				} else {
					values[name] = true
				}
				continue
			}
			if !hasVal {
				if i+1 >= len(argv) {
					return nil, false, fmt.Errorf("argument --%s needs a value", name)
				}
				i++
				val = argv[i]
			}
			if err := a.set(values, val); err != nil {
				return nil, false, err
			}
		default:
			positional = append(positional, s)
		}
	}
	next := 0
	for _, s := range positional {
		for next < len(pb.Args) && (pb.Args[next].Flag || values[pb.Args[next].Name] != nil) {
			next++
		}
		if next >= len(pb.Args) {
			return nil, false, fmt.Errorf("unexpected argument %q", s)
		}
		if err := pb.Args[next].set(values, s); err != nil {
			return nil, false, err
		}
		next++
	}
	for _, a := range pb.Args {
		if values[a.Name] != nil {
			continue
		}
		switch {
		case a.Default != lua.LNil:
			values[a.Name] = a.Default
		case a.Flag:
			values[a.Name] = false
		case !a.Optional:
			what := ""
			if a.Help != "" {
				what = " (" + a.Help + ")"
			}
			return nil, false, fmt.Errorf("missing argument %q%s", a.Name, what)
		}
	}
	return values, false, nil
}

func (a *PlaybookArg) set(values map[string]any, s string) error {
	if a.Type == "number" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("argument %q: %q is not a number", a.Name, s)
		}
		values[a.Name] = f
		return nil
	}
	values[a.Name] = s
	return nil
}

// playbook lua playbook{description=, args=} parses the script's arguments.
func basePlaybook(L *lua.LState) int {
	t := L.CheckTable(1)
	env := luax.GetEnv(L)
	name := env.Playbook
	var argv []string
	if at, ok := L.GetGlobal("arg").(*lua.LTable); ok {
		if name == "" {
			name = lua.LVAsString(at.RawGetInt(0))
		}
		for i := 1; i <= at.Len(); i++ {
			argv = append(argv, at.RawGetInt(i).String())
		}
	}
	if name == "" {
		name = "playbook"
	}
	pb := DeclarePlaybook(L, t, name)
	values, help, err := pb.Parse(argv)
	if help {
		fmt.Fprint(env.Stdout, pb.Usage())
		luax.RaiseExit(L, luax.ExitOK, "")
	}
	if err != nil {
		luax.RaiseExit(L, luax.ExitUsage, fmt.Sprintf("%s: %v\n%s", pb.Name, err, pb.Usage()))
	}
	res := L.NewTable()
	argsT := L.NewTable()
	for k, v := range values {
		argsT.RawSetString(k, luax.ToLua(L, v))
	}
	res.RawSetString("args", argsT)
	res.RawSetString("name", lua.LString(pb.Name))
	res.RawSetString("description", lua.LString(pb.Description))
	L.Push(res)
	return 1
}
