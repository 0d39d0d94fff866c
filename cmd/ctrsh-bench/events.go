package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings"
	"github.com/ctrsh/ctrsh/bindings/luax"
)

// eventLatency pauses and unpauses a container k times while an
// events.watch runs in a Lua state of this process (as in the shell) and
// `docker events` runs on a pipe; each side's delay is measured from the
// engine's own event timestamp.
func (b *bench) eventLatency(name string, k int) (*Latency, error) {
	cmd := exec.Command(b.dockerBin, "events", "--filter", "container="+name,
		"--filter", "event=pause", "--filter", "event=unpause", "--format", "{{.TimeNano}}")
	cmd.Env = b.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	cli := make(chan time.Duration, 2*k)
	go readEventTimes(out, cli)
	time.Sleep(500 * time.Millisecond) // let both subscribe
	go func() {
		time.Sleep(300 * time.Millisecond)
		for i := 0; i < k; i++ {
			b.docker("pause", name)
			time.Sleep(150 * time.Millisecond)
			b.docker("unpause", name)
			time.Sleep(150 * time.Millisecond)
		}
	}()
	ctrsh, err := b.watchInLua(name, 2*k)
	if err != nil {
		return nil, err
	}
	var docker []time.Duration
	deadline := time.After(10 * time.Second)
	for len(docker) < 2*k {
		select {
		case d, ok := <-cli:
			if !ok {
				return latency(ctrsh, docker), nil
			}
			docker = append(docker, d)
		case <-deadline:
			return latency(ctrsh, docker), nil
		}
	}
	return latency(ctrsh, docker), nil
}

func latency(ctrsh, docker []time.Duration) *Latency {
	return &Latency{CtrshMs: ms(median(ctrsh)), DockerMs: ms(median(docker)), Count: len(ctrsh)}
}

// readEventTimes sends, for each event timestamp `docker events` prints, how
// long ago it was.
func readEventTimes(r io.Reader, to chan<- time.Duration) {
	defer close(to)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		now := time.Now()
		if ns, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64); err == nil {
			to <- now.Sub(time.Unix(0, ns))
		}
	}
}

// watchInLua runs events.watch in a fresh Lua state until it has seen k
// events of the container and returns each one's delay.
func (b *bench) watchInLua(name string, k int) ([]time.Duration, error) {
	L := bindings.New(&luax.Env{Stdout: io.Discard, Stderr: os.Stderr, Stdin: strings.NewReader(""), DockerHost: b.host})
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	L.SetContext(ctx)
	err := luax.DoString(L, fmt.Sprintf(`
		bench_lat = {}
		events.watch({filters = {container = %q, event = {"pause", "unpause"}}, ["until"] = now() + 60}, function(e)
			bench_lat[#bench_lat + 1] = now() - e.time
			return #bench_lat < %d
		end)`, name, k))
	if err != nil {
		return nil, err
	}
	var ds []time.Duration
	t := L.GetGlobal("bench_lat").(*lua.LTable)
	for i := 1; i <= t.Len(); i++ {
		ds = append(ds, time.Duration(float64(t.RawGetInt(i).(lua.LNumber))*float64(time.Second)))
	}
	return ds, nil
}
