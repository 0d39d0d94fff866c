package main

import (
	"fmt"
	"strconv"
)

// Names of the benchmark's own containers (all labelled ctrsh.bench=1).
const (
	logName = "ctrsh-bench-log"
	topName = "ctrsh-bench-top"
)

// perContainerOps are the operations measured at every N of the curve: they
// cover every running container.
func (b *bench) perContainerOps(n int) []op {
	return []op{
		{
			name: "stats of every running container", n: n, perContainer: true, target: 100,
			ctrshDesc: "ctrsh -e 'docker.stats{}'", ctrsh: []string{"-e", "docker.stats{}"},
			dockerDesc: "docker stats --no-stream", docker: []string{b.dockerBin, "stats", "--no-stream"},
		},
		{
			name: "host PID ↔ PID inside, every container", n: n, perContainer: true, target: 50,
			ctrshDesc: "ctrsh run pidmap --json", ctrsh: []string{"run", "pidmap", "--json"},
			dockerDesc: "for id in $(docker ps -q); do docker top $id; done",
			docker:     []string{"sh", "-c", `for id in $("$D" ps -q); do "$D" top "$id"; done`},
		},
	}
}

// count is a Lua chunk that counts what an iterator yields and prints it.
func count(iter string) string {
	return "local n = 0 for _ in " + iter + " do n = n + 1 end print(n)"
}

// sameValue compares the last lines both sides printed (two counts).
func sameValue(c, d *tally) string {
	if c.last() != d.last() {
		return fmt.Sprintf("ctrsh printed %q, docker %q", c.last(), d.last())
	}
	return ""
}

// sameLines compares ctrsh's printed count with the lines docker wrote,
// less its header lines.
func sameLines(header int) func(c, d *tally) string {
	return func(c, d *tally) string {
		if want := strconv.Itoa(d.lines - header); c.last() != want {
			return fmt.Sprintf("ctrsh counted %s, docker wrote %s lines", c.last(), want)
		}
		return ""
	}
}

// logOps are measured once, at N, on the big log.
func (b *bench) logOps(since, until string) []op {
	logs := "docker.container(" + strconv.Quote(logName) + "):logs"
	lines := fmt.Sprintf("%d-line log", b.logLines)
	return []op{
		{
			name: "last 100 lines of a " + lines, target: 1, compare: sameLines(0),
			ctrshDesc: "ctrsh -e 'c:logs{tail=100}'", ctrsh: []string{"-e", count(logs + "{tail=100}")},
			dockerDesc: "docker logs --tail 100", docker: []string{"sh", "-c", `"$D" logs --tail 100 ` + logName + " 2>&1"},
		},
		{
			name: "count lines matching a pattern in a " + lines, target: 10, compare: sameValue,
			ctrshDesc: "ctrsh -e counting c:logs{grep=...}", ctrsh: []string{"-e", count(logs + `{grep="level=error"}`)},
			dockerDesc: "docker logs | grep -c", docker: []string{"sh", "-c", `"$D" logs ` + logName + " 2>&1 | grep -c level=error"},
		},
		{
			name: "1% of a " + lines + " by time", target: 10, compare: sameLines(0),
			ctrshDesc:  `ctrsh -e counting c:logs{since=, ["until"]=}`,
			ctrsh:      []string{"-e", count(fmt.Sprintf(`%s{since=%q, ["until"]=%q}`, logs, since, until))},
			dockerDesc: "docker logs --since --until",
			docker:     []string{"sh", "-c", `"$D" logs --since ` + since + " --until " + until + " " + logName + " 2>&1"},
		},
	}
}

// otherOps are measured once, at N.
func (b *bench) otherOps() []op {
	return []op{
		{
			name: "start, one statement, exit", target: 1,
			ctrshDesc: "ctrsh -e 'print(1)'", ctrsh: []string{"-e", "print(1)"},
			dockerDesc: "docker version", docker: []string{b.dockerBin, "version"},
		},
		{
			name: "cpu % over 1 s, every running container", target: 1.7, rounds: 3,
			ctrshDesc: "ctrsh -e 'docker.stats{interval=1}'", ctrsh: []string{"-e", "docker.stats{interval=1}"},
			dockerDesc: "docker stats --no-stream", docker: []string{b.dockerBin, "stats", "--no-stream"},
		},
	}
}

// topOp is c:top() of the container running topProcs processes.
func (b *bench) topOp() op {
	return op{
		name: fmt.Sprintf("process table of a container running %d processes", b.topProcs), target: 3,
		compare:   sameLines(1),
		ctrshDesc: "ctrsh -e 'c:top()'", ctrsh: []string{"-e", "print(#assert(assert(docker.container(" + strconv.Quote(topName) + ")):top()))"},
		dockerDesc: "docker top", docker: []string{b.dockerBin, "top", topName},
	}
}
