package docker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// c:top() of a container with more processes than a page of its
// cgroup.procs and of its init's children file holds (1,200 PIDs are
// about 7 KiB) lists every one, as docker top does: the kernel gives such
// files a page a read, so a short read is not their end.
func TestTopOfManyProcesses(t *testing.T) {
	host := testengine.Host(t)
	const n = 1200
	id := testengine.Run(t, testengine.BusyboxImage, "sh", "-c",
		fmt.Sprintf("i=0; while [ $i -lt %d ]; do sleep 1000 & i=$((i+1)); done; exec sleep 1000", n))
	// The shell starts its sleeps one by one: wait until docker top sees all.
	var want int
	for deadline := time.Now().Add(2 * time.Minute); ; {
		out := testengine.MustDocker(t, "top", id)
		want = len(strings.Split(strings.TrimSpace(out), "\n")) - 1 // its header
		if want >= n+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if want != n+1 {
		t.Fatalf("docker top shows %d processes, want %d", want, n+1)
	}
	L := luatest.NewState(t, luatest.WithEnv(func(env *luax.Env) { env.DockerHost = host }))
	L.SetGlobal("ID", lua.LString(id))
	if err := L.DoString(`rows = assert(assert(docker.container(ID)):top())`); err != nil {
		t.Fatal(err)
	}
	rows := L.GetGlobal("rows").(*lua.LTable)
	if rows.Len() != want {
		t.Fatalf("c:top(): %d rows, docker top %d", rows.Len(), want)
	}
	inside := map[int]bool{}
	for i := 1; i <= rows.Len(); i++ {
		r := rows.RawGetInt(i).(*lua.LTable)
		inside[int(r.RawGetString("pid_inside").(lua.LNumber))] = true
	}
	if len(inside) != want || !inside[1] {
		t.Errorf("c:top(): %d distinct PIDs inside (pid 1 among them: %v), want %d", len(inside), inside[1], want)
	}
}
