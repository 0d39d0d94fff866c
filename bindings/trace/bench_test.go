package trace_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
	lua "github.com/yuin/gopher-lua"
)

// BenchmarkExecTraced measures what tracing costs a container that execs
// as fast as it can (busybox sh running /bin/true in a loop, about 1,300
// execs a second on the 2-core test machine): the loop's time untraced and
// traced, alternately, and the CPU this process (ctrsh's module and a Lua
// loop reading every event, as the shell or a playbook does) uses while
// the traced loop runs. Run it with `make bench-trace`; it is not part of
// make test (it takes about a minute and wants a quiet machine).
func BenchmarkExecTraced(b *testing.B) {
	testengine.NeedRoot(b, "tracing")
	const execs, rounds = 3000, 7
	id := testengine.Run(b, testengine.BusyboxImage, "sleep", "100000")
	// loop runs the workload and returns its time, measured inside the
	// container from /proc/uptime (10 ms resolution), without docker
	// exec's own start-up.
	loop := func() time.Duration {
		out := testengine.MustDocker(b, "exec", id, "sh", "-c", fmt.Sprintf(
			"read a _ < /proc/uptime; i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done; read z _ < /proc/uptime; echo $a $z", execs))
		f := strings.Fields(out)
		if len(f) != 2 {
			b.Fatalf("workload printed %q", out)
		}
		a, _ := strconv.ParseFloat(f[0], 64)
		z, _ := strconv.ParseFloat(f[1], 64)
		return time.Duration((z - a) * float64(time.Second))
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}

	// The kernel's own count of the exec program's runs and run time: the
	// part of the slowdown that is ctrsh's program, free of the noise of
	// a shared machine.
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatalf("enabling BPF run-time statistics: %v", err)
	}
	defer stats.Close()
	progNs := func() (ns float64) {
		progs, _ := heldBPF(b)
		for id := range progs {
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
			if err != nil {
				continue
			}
			if info, err := p.Info(); err == nil && info.Name == "ctrsh_exec" {
				if st, err := p.Stats(); err == nil && st.RunCount > 0 {
					ns = float64(st.Runtime.Nanoseconds()) / float64(st.RunCount)
				}
			}
			p.Close()
		}
		return ns
	}

	var plain, traced, cpuPct, perExecNs []float64
	var events []int
	loop() // warm up
	for r := 0; r < rounds; r++ {
		plain = append(plain, loop().Seconds())

		L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: os.Stderr, Stdin: strings.NewReader("")})
		ctx, cancel := context.WithCancel(context.Background())
		L.SetContext(ctx)
		L.SetGlobal("ID", lua.LString(id))
		if err := L.DoString(`it = assert(trace.exec{container = ID}) n = 0`); err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- L.DoString(`for e in it do n = n + 1 end`) }()
		runtime.Gosched()
		c0, t0 := cpu(), time.Now()
		took := loop()
		time.Sleep(300 * time.Millisecond) // let the last events arrive
		c1, t1 := cpu(), time.Now()
		perExecNs = append(perExecNs, progNs())
		cancel()
		<-done
		traced = append(traced, took.Seconds())
		cpuPct = append(cpuPct, 100*(c1-c0).Seconds()/t1.Sub(t0).Seconds())
		L.RemoveContext()
		events = append(events, int(lua.LVAsNumber(L.GetGlobal("n"))))
		L.Close()
	}
	med := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	p, tr, c, ns := med(plain), med(traced), med(cpuPct), med(perExecNs)
	slow := 100 * (tr/p - 1)
	progPct := 100 * ns / (p * 1e9 / execs)
	b.ReportMetric(float64(execs)/p, "execs/s")
	b.ReportMetric(slow, "slowdown-%")
	b.ReportMetric(c, "ctrsh-cpu-%")
	b.ReportMetric(ns, "bpf-ns/exec")
	fmt.Printf("exec loop, %d execs, %d rounds A/B after a warm-up (medians): untraced %.2f s (%.0f execs/s), traced %.2f s: slowdown %.1f%%; ctrsh CPU while traced %.1f%% of a core; events per traced round %v\n",
		execs, rounds, p, float64(execs)/p, tr, slow, c, events)
	fmt.Printf("the exec program in the kernel: %.0f ns a run, %.2f%% of an untraced exec's %.0f µs\n", ns, progPct, p*1e6/execs)
	fmt.Printf("rounds: untraced %v\n        traced   %v\n        cpu%%     %v\n        bpf ns   %v\n", plain, traced, cpuPct, perExecNs)
}
