package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	benchLabel = "ctrsh.bench=1"
	image      = "ctrsh-test/busybox"
)

// scaleTo starts benchmark containers until n of them run: busybox, no
// network, a shell waiting on two sleeping processes, as an idle small
// service would look. (A shell loop forking a sleep every second, as
// earlier runs had, made 300 forks a second at N=300 and drove the 2-core
// machine's load over 200: both sides then measured the machine's fork
// rate.) Four are started at a time.
func (b *bench) scaleTo(n int) error {
	todo := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range todo {
				_, err := b.docker("run", "-d", "--network", "none", "--label", benchLabel,
					"--name", fmt.Sprintf("ctrsh-bench-%d", i), "--memory", "64m", image,
					"sh", "-c", "sleep 100000 & sleep 100000 & wait")
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := b.started; i < n; i++ {
		todo <- i
	}
	close(todo)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	b.started = max(b.started, n)
	return nil
}

// writeLog runs a container that writes logLines lines to stdout (one in a
// thousand an error on stderr) and exits, and waits for it to end. awk
// writes each line apart, as a service logs (and as a shell loop of echo
// would, a third slower).
func (b *bench) writeLog() error {
	script := fmt.Sprintf(`BEGIN { for (i = 0; i < %d; i++) { print "line " i " level=info msg=request served"; fflush(); `+
		`if ((i+1) %% 1000 == 0) { print "line " i+1 " level=error msg=upstream timeout" > "/dev/stderr"; fflush("/dev/stderr") } } }`, b.logLines)
	if _, err := b.docker("run", "-d", "--network", "none", "--label", benchLabel, "--name", logName, image, "awk", script); err != nil {
		return err
	}
	code, err := b.docker("wait", logName)
	if err != nil {
		return err
	}
	if code != "0" {
		return fmt.Errorf("the log writer exited with %s", code)
	}
	return nil
}

// logWindow returns the timestamps of the lines at 49.5% and 50.5% of the
// log (1% of it between them), read from its json-file.
func (b *bench) logWindow() (since, until string, err error) {
	path, err := b.docker("inspect", "-f", "{{.LogPath}}", logName)
	if err != nil {
		return "", "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("log of %s: %w", logName, err)
	}
	defer f.Close()
	total := b.logLines + b.logLines/1000
	from, to := total*995/2000, total*995/2000+total/100
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for i := 0; sc.Scan() && i <= to; i++ {
		if i != from && i != to {
			continue
		}
		var l struct{ Time string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return "", "", fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		if i == from {
			since = l.Time
		} else {
			until = l.Time
		}
	}
	if since == "" || until == "" {
		return "", "", fmt.Errorf("%s: fewer than %d lines", path, to+1)
	}
	return since, until, sc.Err()
}

// startTop starts the container running topProcs sleeping processes (under
// a pids limit that leaves room) and waits until they all run.
func (b *bench) startTop() error {
	script := fmt.Sprintf("i=0; while [ $i -lt %d ]; do sleep 100000 & i=$((i+1)); done; wait", b.topProcs)
	_, err := b.docker("run", "-d", "--network", "none", "--label", benchLabel, "--name", topName,
		"--pids-limit", strconv.Itoa(b.topProcs+100), image, "sh", "-c", script)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := b.docker("top", topName)
		if err != nil {
			return err
		}
		if strings.Count(out, "\n") >= b.topProcs+1 { // a header, the shell and its children
			return nil
		}
		time.Sleep(3 * time.Second) // docker top of thousands of processes is not free
	}
	return fmt.Errorf("%s: %d processes did not start within 5 minutes", topName, b.topProcs)
}

// remove removes a container, retrying for a while: the engine can give up
// waiting for a kill of thousands of processes to be reported.
func (b *bench) remove(name string) error {
	var err error
	for try := 0; try < 12; try++ {
		if _, err = b.docker("rm", "-f", name); err == nil {
			return nil
		}
		if out, ierr := b.docker("ps", "-aq", "--filter", "name=^"+name+"$"); ierr == nil && out == "" {
			return nil
		}
		time.Sleep(5 * time.Second)
	}
	return err
}

// cleanup removes every container labelled ctrsh.bench=1, and no other.
func (b *bench) cleanup() {
	ids, err := b.docker("ps", "-aq", "--filter", "label="+benchLabel)
	if err != nil || ids == "" {
		return
	}
	if _, err := b.docker(append([]string{"rm", "-f"}, strings.Fields(ids)...)...); err == nil {
		return
	}
	for _, id := range strings.Fields(ids) {
		if err := b.remove(id); err != nil {
			fmt.Fprintf(os.Stderr, "ctrsh-bench: cleanup: %v\n", err)
		}
	}
}
