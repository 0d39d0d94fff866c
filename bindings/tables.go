package bindings

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/tabular"
)

// Tabulate is the table form of v when v is an array of records — what the
// shell prints for a statement whose value is the rows of c:top(),
// docker.stats{}, proc.list(), journal.events{} or docker.containers() —
// and false for any other value (pp's tree is for those). A record is a
// table whose keys are all strings, or a userdata of a ctrsh type (a
// Container, a Process); the array holds records of one form.
//
// Records of a shape ctrsh knows (views.go) show its chosen columns;
// others show every key, in tabular.OrderKeys order. Nested tables show as
// {…}, short arrays of strings and numbers as their items.
func Tabulate(L *lua.LState, v lua.LValue) (*tabular.Table, bool) {
	arr, ok := v.(*lua.LTable)
	if !ok {
		return nil, false
	}
	n := arr.Len()
	if n == 0 || countKeys(arr) != n {
		return nil, false
	}
	rows := make([]lua.LValue, n)
	for i := range rows {
		rows[i] = arr.RawGetInt(i + 1)
	}
	if ud, ok := rows[0].(*lua.LUserData); ok {
		return userdataTable(L, ud.Metatable, rows)
	}
	keys := map[string]bool{}
	for _, r := range rows {
		t, ok := r.(*lua.LTable)
		if !ok || !recordKeys(t, keys) {
			return nil, false
		}
	}
	return recordTable(L, keys, rows), true
}

func countKeys(t *lua.LTable) int {
	n := 0
	t.ForEach(func(_, _ lua.LValue) { n++ })
	return n
}

// recordKeys adds t's keys to keys; false when t is not a record.
func recordKeys(t *lua.LTable, keys map[string]bool) bool {
	ok, any := true, false
	t.ForEach(func(k, _ lua.LValue) {
		s, isStr := k.(lua.LString)
		if !isStr {
			ok = false
			return
		}
		keys[string(s)] = true
		any = true
	})
	return ok && any
}

// recordTable lays out tables: a view's columns when one matches, else
// every key.
func recordTable(L *lua.LState, keys map[string]bool, rows []lua.LValue) *tabular.Table {
	cols := matchView(keys)
	if cols == nil {
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		for _, k := range tabular.OrderKeys(names) {
			cols = append(cols, viewCol{Column: tabular.Column{Key: k, Priority: tabular.Priority(k)}})
		}
	}
	return fill(L, cols, rows)
}

// userdataTable lays out userdata of one type: its view, else its fields.
func userdataTable(L *lua.LState, mt lua.LValue, rows []lua.LValue) (*tabular.Table, bool) {
	mtt, ok := mt.(*lua.LTable)
	if !ok {
		return nil, false
	}
	for _, r := range rows {
		if ud, ok := r.(*lua.LUserData); !ok || ud.Metatable != mt {
			return nil, false
		}
	}
	name, _ := mtt.RawGetString("__name").(lua.LString)
	cols := typeViews[string(name)]
	if cols == nil {
		for _, f := range typeFields(mtt) {
			cols = append(cols, viewCol{Column: tabular.Column{Key: f, Priority: tabular.Priority(f)}})
		}
	}
	if cols == nil {
		return nil, false
	}
	return fill(L, cols, rows), true
}

// typeFields are a userdata type's members that are not methods.
func typeFields(mt *lua.LTable) []string {
	members, _ := mt.RawGetString("__members").(*lua.LTable)
	methods, _ := mt.RawGetString("__methods").(*lua.LTable)
	if members == nil {
		return nil
	}
	var out []string
	members.ForEach(func(_, v lua.LValue) {
		if methods == nil || methods.RawGetString(v.String()) == lua.LNil {
			out = append(out, v.String())
		}
	})
	return tabular.OrderKeys(out)
}

// fill reads every row's cells.
func fill(L *lua.LState, cols []viewCol, rows []lua.LValue) *tabular.Table {
	t := &tabular.Table{Rows: make([][]any, len(rows))}
	for _, c := range cols {
		t.Columns = append(t.Columns, c.Column)
	}
	for i, r := range rows {
		row := make([]any, len(cols))
		for j, c := range cols {
			var v lua.LValue
			if c.get != nil {
				v = c.get(L, r)
			} else {
				v = field(L, r, c.Key)
			}
			row[j] = cellValue(L, v)
		}
		t.Rows[i] = row
	}
	return t
}

// field is the value at a dotted path of a record ("memory.usage").
func field(L *lua.LState, v lua.LValue, path string) lua.LValue {
	for _, k := range strings.Split(path, ".") {
		switch r := v.(type) {
		case *lua.LTable:
			v = r.RawGetString(k)
		case *lua.LUserData:
			v = L.GetField(r, k)
		default:
			return lua.LNil
		}
	}
	return v
}

// maxListItems bounds the arrays a cell shows item by item.
const maxListItems = 32

// cellValue is a Lua value as a tabular cell.
func cellValue(L *lua.LState, v lua.LValue) any {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return float64(v)
	case lua.LBool:
		return bool(v)
	case *lua.LTable:
		return listCell(v)
	}
	return luax.ToString(L, v)
}

// listCell shows an array of strings and numbers as its items separated by
// spaces (a command line, NSpid); any other table as {…} ({} when empty).
func listCell(t *lua.LTable) any {
	n := t.Len()
	if n == 0 && countKeys(t) == 0 {
		return tabular.Text("{}")
	}
	if n == 0 || n > maxListItems || countKeys(t) != n {
		return tabular.Nested{}
	}
	items := make([]string, n)
	for i := range items {
		switch e := t.RawGetInt(i + 1).(type) {
		case lua.LString:
			items[i] = luax.EscapeLine(string(e))
		case lua.LNumber:
			items[i] = luax.FormatNumber(float64(e))
		default:
			return tabular.Nested{}
		}
	}
	return tabular.Text(strings.Join(items, " "))
}
