package ns_test

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ctrsh/ctrsh/bindings/ns"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	"github.com/ctrsh/ctrsh/fixtures/trees"
)

func TestOfSelf(t *testing.T) {
	m, err := ns.Of("/", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mnt", "pid", "net", "ipc", "uts", "user"} {
		if m[k] == 0 {
			t.Errorf("no %s namespace in %v", k, m)
		}
	}
	link, _ := os.Readlink("/proc/self/ns/net")
	if want := "net:[" + strconv.FormatUint(m["net"], 10) + "]"; link != want {
		t.Errorf("net %s, link %s", want, link)
	}
	if _, err := ns.Of("/", 999999999); err == nil || err.Error() != "process 999999999: no such process" {
		t.Errorf("Of(999999999): %v", err)
	}
	if _, err := ns.Of("/", 0); err == nil {
		t.Error("Of(0): want an error")
	}
}

// A process in new uts, ipc, net, pid and mount namespaces differs from us
// in exactly those.
func TestSameReal(t *testing.T) {
	testengine.NeedRoot(t, "this test")
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	same, diff, err := ns.Same("/", cmd.Process.Pid, os.Getpid(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if same || !cmp.Equal(diff, []string{"mnt", "pid", "net", "ipc", "uts"}) {
		t.Errorf("same %v, differ %v", same, diff)
	}
	same, diff, err = ns.Same("/", cmd.Process.Pid, os.Getpid(), []string{"user", "cgroup"})
	if err != nil || !same || len(diff) != 0 {
		t.Errorf("user and cgroup: %v %v %v", same, diff, err)
	}
	same, diff, err = ns.Same("/", cmd.Process.Pid, os.Getpid(), []string{"net", "user"})
	if err != nil || same || !cmp.Equal(diff, []string{"net"}) {
		t.Errorf("net and user: %v %v %v", same, diff, err)
	}
	if _, _, err := ns.Same("/", os.Getpid(), os.Getpid(), []string{"nope"}); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

func TestFixtureNamespaces(t *testing.T) {
	root := trees.Unpack(t, "cgroupv2-systemd")
	m, err := ns.Of(root, 2543)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"mnt": 4026532300, "uts": 4026532301, "ipc": 4026532302, "pid": 4026532303, "net": 4026532305,
		"cgroup": 4026532306, "user": 4026531837, "time": 4026531834}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("ns of 2543 (-want +got):\n%s", diff)
	}
	same, diff, err := ns.Same(root, 2543, 4242, nil)
	if err != nil || same || !cmp.Equal(diff, []string{"mnt", "pid", "net", "ipc", "uts", "cgroup"}) {
		t.Errorf("container vs ctrsh: %v %v %v", same, diff, err)
	}
	same, _, err = ns.Same(root, 2543, 2600, nil)
	if err != nil || !same {
		t.Errorf("two processes of one container: %v %v", same, err)
	}
	// A kernel before 5.6 has no time namespace: absent, not 0.
	root = trees.Unpack(t, "cgroupv1-old")
	m, err = ns.Of(root, 2543)
	if _, ok := m["time"]; err != nil || ok || len(m) != 7 {
		t.Errorf("old kernel: %v, %v", m, err)
	}
	// Asked for by name, a kind one of them lacks differs.
	same, diff, err = ns.Same(root, 2543, 4242, []string{"time"})
	if err != nil || same || !cmp.Equal(diff, []string{"time"}) {
		t.Errorf("time on an old kernel: %v %v %v", same, diff, err)
	}
}
