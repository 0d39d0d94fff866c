package docker_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

// fakeRoot writes a data root holding containers as dockerd lays them out
// (containers/<id>/config.v2.json, hostconfig.json, <id>-json.log), with
// what the files say chosen by the test. The host has no such engine: no
// dockerd ever wrote these files, which is the point.
type fakeRoot struct {
	t    *testing.T
	root string
}

func newFakeRoot(t *testing.T) *fakeRoot {
	root := filepath.Join(t.TempDir(), "docker")
	if err := os.MkdirAll(filepath.Join(root, "containers"), 0o710); err != nil {
		t.Fatal(err)
	}
	return &fakeRoot{t: t, root: root}
}

func (f *fakeRoot) add(id string, config, hostconfig map[string]any, log string) string {
	dir := filepath.Join(f.root, "containers", id)
	if err := os.MkdirAll(dir, 0o710); err != nil {
		f.t.Fatal(err)
	}
	config["ID"] = id
	if _, ok := config["LogPath"]; !ok {
		config["LogPath"] = filepath.Join(dir, id+"-json.log")
	}
	for name, v := range map[string]any{"config.v2.json": config, "hostconfig.json": hostconfig} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			f.t.Fatal(err)
		}
	}
	if log != "" {
		if err := os.WriteFile(filepath.Join(dir, id+"-json.log"), []byte(log), 0o640); err != nil {
			f.t.Fatal(err)
		}
	}
	return dir
}

// remember makes rootsFile say that the engine at host had this data root.
func (f *fakeRoot) remember(host string) {
	file := filepath.Join(f.t.TempDir(), "roots.json")
	b, _ := json.Marshal(map[string]string{strings.TrimPrefix(host, "unix://"): f.root})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.t.Setenv("CTRSH_DOCKER_ROOTS", file)
}

func jsonLog(lines ...string) string {
	var b strings.Builder
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	for i, l := range lines {
		stream := "stdout"
		if rest, ok := strings.CutPrefix(l, "E:"); ok {
			stream, l = "stderr", rest
		}
		e, _ := json.Marshal(map[string]any{"log": l + "\n", "stream": stream, "time": t0.Add(time.Duration(i) * time.Minute)})
		b.Write(append(e, '\n'))
	}
	return b.String()
}

// What an engine's state on disk says is the containers' to choose: a PID
// that is not theirs, a log path outside their directory, a log that is a
// link, control characters in names. ctrsh reads it through an engine
// that is down, with the data root it remembered, and trusts none of that.
func TestDiskStateIsHostile(t *testing.T) {
	testengine.NeedRoot(t, "reading an engine's state on disk")
	host := "unix://" + filepath.Join(t.TempDir(), "docker.sock") // nothing listens
	f := newFakeRoot(t)
	f.remember(host)
	started := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	liar := strings.Repeat("a1", 32)
	f.add(liar, map[string]any{
		"Name": "/liar\x1b]0;owned\x07", "Created": started,
		"Config": map[string]any{"Image": "img:1", "Labels": map[string]string{"role": "liar"}},
		// ctrsh's own PID: a process of no container, certainly not this one's.
		"State":   map[string]any{"Running": true, "Pid": os.Getpid(), "StartedAt": started},
		"LogPath": "/etc/shadow",
	}, map[string]any{"RestartPolicy": map[string]any{"Name": "always"}, "LogConfig": map[string]any{"Type": "json-file"}}, "")
	linked := strings.Repeat("b2", 32)
	dir := f.add(linked, map[string]any{"Name": "/linked", "Created": started, "Config": map[string]any{"Image": "img:1"},
		"State": map[string]any{"StartedAt": started, "FinishedAt": started, "ExitCode": 3}}, map[string]any{"LogConfig": map[string]any{"Type": "json-file"}}, "")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, linked+"-json.log")); err != nil {
		t.Fatal(err)
	}
	plain := strings.Repeat("c3", 32)
	f.add(plain, map[string]any{"Name": "/plain", "Created": started, "Config": map[string]any{"Image": "img:2", "Labels": map[string]string{"role": "plain"}},
		"State": map[string]any{"StartedAt": started, "ExitCode": 0}}, map[string]any{"LogConfig": map[string]any{"Type": "json-file"}},
		jsonLog("one", "E:two", "three", "four"))
	// Not a container's directory: ignored.
	if err := os.MkdirAll(filepath.Join(f.root, "containers", "not-an-id"), 0o700); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	L := luatest.NewState(t, luatest.WithEnv(func(env *luax.Env) { env.DockerHost = host; env.Stderr = &stderr }))
	L.SetGlobal("ROOT", lua.LString(f.root))
	L.SetGlobal("LIAR", lua.LString(liar))
	err := L.DoString(`
		assert.eq(#assert(docker.containers()), 0) -- none has a process: none runs
		local all = assert(docker.containers{all = true})
		assert.eq(#all, 3)
		local byName = {}
		for _, c in ipairs(all) do
			assert.eq(c.source, "disk")
			assert.eq(c.runtime, "docker")
			byName[c.name] = c
		end

		-- The liar's file says running with a PID: it has no process, so
		-- it is not running and has no PID; nothing acts on that PID.
		local c = assert(docker.container(LIAR:sub(1, 8)))
		assert.eq(c.name, "liar\27]0;owned\7")
		assert.eq(c.state, "exited")
		assert.eq(c.pid, 0)
		assert.eq(c.restart_policy, "always")
		assert.eq(c.labels.role, "liar")
		assert.fails("not running", c:ns())
		assert.fails("not running", c:cgroup())
		assert.fails("not running", c:enter{"true"})
		-- Its log path is outside its directory: not opened.
		assert.fails("log path \"/etc/shadow\" is not in " .. ROOT .. "/containers/" .. LIAR, c:logs())
		-- What needs the engine says so.
		assert.fails("^engine not answering: container \"liar.*\": exec: docker engine ", c:exec{"true"})
		assert.fails("^engine not answering: container \"liar.*\": inspect needs the engine", c:inspect())
		assert.fails("^engine not answering: container \"liar.*\": pause: ", c:pause())

		-- A log that is a link is not followed.
		assert.fails("linked", byName.linked:logs())
		assert.eq(byName.linked.exit_code, 3)
		assert.eq(byName.linked.status, "Exited (3) About an hour ago")

		-- A plain one's log reads as the engine would give it.
		local lines = {}
		for l in byName.plain:logs{tail = 3} do lines[#lines + 1] = l.stream .. " " .. l.line end
		assert.eq(lines, {"stderr two", "stdout three", "stdout four"})
		lines = {}
		for l in byName.plain:logs{since = "2026-01-02T03:05:00Z", ["until"] = "2026-01-02T03:06:00Z", stderr = false} do
			lines[#lines + 1] = l.line
		end
		assert.eq(lines, {"three"})
		lines = {}
		for l in byName.plain:logs{grep = "o$", tail = -1} do lines[#lines + 1] = l.line end
		assert.eq(lines, {"two"})

		-- docker ps's filters, from disk.
		assert.eq(#assert(docker.containers{all = true, filters = {label = "role=plain"}}), 1)
		assert.eq(#assert(docker.containers{all = true, filters = {label = "role"}}), 2)
		assert.eq(#assert(docker.containers{all = true, filters = {ancestor = "img:1"}}), 2)
		assert.eq(#assert(docker.containers{filters = {status = "exited", exited = "3"}}), 1)
		assert.eq(#assert(docker.containers{all = true, filters = {name = "lin"}}), 1)
		assert.fails("filter \"network\" needs the engine", docker.containers{filters = {network = "x"}})
		assert.eq(docker.container("nope"), nil)
		assert.fails("container \"nope\": no such container", docker.container("nope"))
	`)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stderr.String(), "reading container state from disk ("+f.root+")"); n != 1 {
		t.Errorf("stderr: %q: want one notice naming %s", stderr.String(), f.root)
	}
}

// Any process can call itself dockerd and claim a socket and a data root on
// its command line. ctrsh believes one on the host (root's, in its mount
// namespace, in no container) and not one in a container.
func TestDockerdInContainerIsNotBelieved(t *testing.T) {
	testengine.NeedRoot(t, "reading an engine's state on disk")
	testengine.Host(t)
	host := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	t.Setenv("CTRSH_DOCKER_ROOTS", filepath.Join(t.TempDir(), "roots.json"))
	f := newFakeRoot(t)
	f.add(strings.Repeat("d4", 32), map[string]any{"Name": "/planted", "Config": map[string]any{"Image": "x"}}, map[string]any{}, "")
	// sh names itself dockerd; its command line holds the claim.
	const script = `printf dockerd > /proc/$$/comm; while :; do sleep 1; done`
	claim := []string{"-H", host, "--data-root", f.root}
	list := func() (string, error) {
		L := luatest.NewState(t, luatest.WithEnv(func(env *luax.Env) { env.DockerHost = host; env.Stderr = &bytes.Buffer{} }))
		if err := L.DoString(`
			local list, err = docker.containers{all = true}
			got, why = list and #list == 1 and tostring(list[1]), err`); err != nil {
			t.Fatal(err)
		}
		if got, ok := L.GetGlobal("got").(lua.LString); ok {
			return string(got), nil
		}
		return "", fmt.Errorf("%s", L.GetGlobal("why").String())
	}

	id := testengine.Run(t, append([]string{testengine.BusyboxImage, "sh", "-c", script}, claim...)...)
	pid := waitComm(t, func() string { return testengine.MustDocker(t, "inspect", "-f", "{{.State.Pid}}", id) })
	t.Logf("a dockerd in container %.12s: pid %s", id, pid)
	if _, err := list(); err == nil || !strings.Contains(err.Error(), "its data root is unknown") {
		t.Errorf("with a dockerd in a container claiming %s: %v, want its data root unknown", f.root, err)
	}

	// The same claim from a process on the host is believed.
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, claim...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitComm(t, func() string { return fmt.Sprint(cmd.Process.Pid) })
	if got, err := list(); err != nil || !strings.Contains(got, "<container planted ") {
		t.Errorf("with a dockerd on the host claiming %s: %q, %v; want its container", f.root, got, err)
	}
}

// waitComm waits until the process whose pid pidOf gives has named itself
// dockerd, and returns the pid.
func waitComm(t *testing.T, pidOf func() string) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		pid := pidOf()
		if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) == "dockerd" {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the process never named itself dockerd")
	return ""
}
