package trace_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/bindings/trace"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

func TestLua(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	luatest.Run(t, "testdata/*_test.lua")
}

// A kernel without BTF (here: a host root with no /sys/kernel/btf/vmlinux):
// the module says why, and the rest of ctrsh works.
func TestNoBTF(t *testing.T) {
	testengine.Host(t)
	root := t.TempDir()
	L := luatest.NewState(t, luatest.WithSetup(func(t *testing.T, L *lua.LState) { luax.SetHostRoot(L, root) }))
	err := L.DoString(`
		local it, err = trace.exec{}
		assert.is_nil(it)
		assert.matches(err, "^tracing needs a kernel with BPF and BTF: .*` + filepath.Base(root) + `/sys/kernel/btf/vmlinux")
		local c = assert(docker.container(engine.run(engine.busybox, "sleep", "1000")))
		local it2, err2 = c:trace("exec")
		assert.is_nil(it2)
		assert.matches(err2, "^tracing needs a kernel with BPF and BTF")
		assert.eq(docker.ping(), true)
		assert.eq(c.state, "running")
	`)
	if err != nil {
		t.Fatal(err)
	}
}

// The Go API says the same, and the error matches ErrUnavailable; a file
// that is not BTF is as good as none.
func TestOpenWithoutBTF(t *testing.T) {
	for _, path := range []string{filepath.Join(t.TempDir(), "vmlinux"), "/etc/hostname"} {
		_, err := trace.Open(trace.Options{Kinds: []trace.Kind{trace.KindExec}, BTFPath: path})
		if err == nil || !errors.Is(err, trace.ErrUnavailable) || !strings.HasPrefix(err.Error(), "tracing needs a kernel with BPF and BTF: ") {
			t.Errorf("BTF %s: Open: %v, want a 'tracing needs a kernel with BPF and BTF' error matching ErrUnavailable", path, err)
		}
	}
}

// heldBPF lists the ids of the BPF programs and links this process holds
// open, from /proc/self/fdinfo.
func heldBPF(t testing.TB) (progs, links map[uint32]bool) {
	t.Helper()
	progs, links = map[uint32]bool{}, map[uint32]bool{}
	ents, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				continue
			}
			switch k {
			case "prog_id":
				progs[uint32(n)] = true
			case "link_id":
				links[uint32(n)] = true
			}
		}
	}
	return progs, links
}

// kernelBPF lists every program and link id the kernel has loaded, and the
// names of the programs.
func kernelBPF(t *testing.T) (progs map[uint32]string, links map[uint32]bool) {
	t.Helper()
	progs, links = map[uint32]string{}, map[uint32]bool{}
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		id = next
		name := "?"
		if p, err := ebpf.NewProgramFromID(id); err == nil {
			if info, err := p.Info(); err == nil {
				name = info.Name
			}
			p.Close()
		}
		progs[uint32(id)] = name
	}
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		links[uint32(it.ID)] = true
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return progs, links
}

// noneLeft checks that none of the programs and links seen while tracing
// is still held by this process or known to the kernel, and that nothing of
// ctrsh's is pinned in /sys/fs/bpf.
func noneLeft(t *testing.T, progs, links map[uint32]bool) {
	t.Helper()
	// The stream's goroutine closes the tracer as it returns: give it a
	// moment, then look.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		heldP, _ := heldBPF(t)
		kernP, _ := kernelBPF(t)
		busy := false
		for id := range progs {
			busy = busy || heldP[id] || kernP[id] != ""
		}
		if !busy {
			break
		}
	}
	heldP, heldL := heldBPF(t)
	kernP, kernL := kernelBPF(t)
	for id := range progs {
		if heldP[id] {
			t.Errorf("program %d still held by this process", id)
		}
		if name, ok := kernP[id]; ok {
			t.Errorf("program %d (%s) still loaded in the kernel", id, name)
		}
	}
	for id := range links {
		if heldL[id] {
			t.Errorf("link %d still held by this process", id)
		}
		if kernL[id] {
			t.Errorf("link %d still in the kernel", id)
		}
	}
	ents, _ := os.ReadDir("/sys/fs/bpf")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "ctrsh") {
			t.Errorf("/sys/fs/bpf/%s is pinned", e.Name())
		}
	}
}

// Ctrl-C (the statement's context cancelled while the loop waits), a
// duration running out, and a loop left with break whose statement then
// ends: each detaches every program, and this process keeps nothing.
func TestDetachOnCancel(t *testing.T) {
	testengine.NeedRoot(t, "tracing")
	id := testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "while true; do ls / >/dev/null; sleep 0.2; done")
	before, beforeL := heldBPF(t)

	cases := []struct {
		name, code string
		cancel     bool
	}{
		{"ctrl-c", `for e in trace.stream({"exec", "exit", "oom", "connect", "open"}, {container = ID}) do end`, true},
		{"duration", `for e in trace.stream({"exec", "open"}, {duration = 1.5}) do end`, false},
		{"break", `for e in trace.exec{container = ID} do break end`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L := luatest.NewState(t)
			L.SetGlobal("ID", lua.LString(id))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			L.SetContext(ctx)
			seenP, seenL := map[uint32]bool{}, map[uint32]bool{}
			done := make(chan error, 1)
			go func() { done <- L.DoString(tc.code) }()
			// While it runs, the programs are loaded and attached.
			deadline := time.Now().Add(20 * time.Second)
			for len(seenL) == 0 && time.Now().Before(deadline) {
				p, l := heldBPF(t)
				for id := range p {
					if !before[id] {
						seenP[id] = true
					}
				}
				for id := range l {
					if !beforeL[id] {
						seenL[id] = true
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(seenP) == 0 || len(seenL) == 0 {
				t.Fatalf("no program or link seen while tracing (programs %v, links %v)", seenP, seenL)
			}
			kp, _ := kernelBPF(t)
			for id := range seenP {
				if !strings.HasPrefix(kp[id], "ctrsh_") {
					t.Errorf("program %d is named %q, want ctrsh_*", id, kp[id])
				}
			}
			if tc.cancel {
				time.Sleep(300 * time.Millisecond)
				cancel()
			}
			select {
			case err := <-done:
				if tc.cancel && (err == nil || !strings.Contains(err.Error(), "context canceled")) {
					t.Errorf("cancelled statement: %v, want context canceled", err)
				}
				if !tc.cancel && err != nil {
					t.Errorf("statement: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the statement did not end")
			}
			// The end of the statement (the REPL cancels its context).
			cancel()
			noneLeft(t, seenP, seenL)
		})
	}
}
