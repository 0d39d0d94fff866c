package proc_test

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/proc"
)

// TopTable gives one table per row, in order, with every field (user nil
// when unknown), also when its rows are built on several goroutines.
func TestTopTable(t *testing.T) {
	for _, n := range []int{0, 1, 3000} {
		rows := make([]proc.TopRow, n)
		for i := range rows {
			rows[i] = proc.TopRow{PID: 100 + i, PIDInside: 1 + i, PPID: 99, PPIDInside: i % 2, UID: i % 3,
				Comm: fmt.Sprint("c", i), Cmd: fmt.Sprint("cmd ", i), State: "S", RSS: uint64(4096 * i), CPUSeconds: float64(i) / 100}
			if i%3 == 0 {
				rows[i].User = "root"
			}
		}
		L := lua.NewState()
		tb := proc.TopTable(L, rows)
		if tb.Len() != n {
			t.Fatalf("%d rows: table of %d", n, tb.Len())
		}
		for i, r := range rows {
			row, ok := tb.RawGetInt(i + 1).(*lua.LTable)
			if !ok {
				t.Fatalf("row %d: %v", i+1, tb.RawGetInt(i+1))
			}
			var got []string
			for _, k := range []string{"pid", "pid_inside", "ppid", "ppid_inside", "uid", "user", "comm", "cmd", "state", "rss", "cpu_seconds"} {
				got = append(got, row.RawGetString(k).String())
			}
			user := "nil"
			if r.User != "" {
				user = r.User
			}
			want := fmt.Sprintf("%d|%d|%d|%d|%d|%s|%s|%s|%s|%d|%v", r.PID, r.PIDInside, r.PPID, r.PPIDInside, r.UID, user,
				r.Comm, r.Cmd, r.State, r.RSS, lua.LNumber(r.CPUSeconds))
			if got := strings.Join(got, "|"); got != want {
				t.Fatalf("row %d = %s, want %s", i+1, got, want)
			}
		}
		L.Close()
	}
}
