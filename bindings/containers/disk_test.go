package containers_test

import (
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testcri"
)

func run(t *testing.T, L *lua.LState, code string) {
	t.Helper()
	if err := L.DoString(code); err != nil {
		t.Fatal(err)
	}
}

// When the CRI runtime does not answer, its containers are read from the
// OCI bundles it left: here the fixture containerd's own (its state
// directory, with a socket that does not answer). Host-side methods work;
// those that need the runtime say it does not answer.
func TestDiskContainerd(t *testing.T) {
	t.Setenv("CTRSH_AUDIT_FILE", t.TempDir()+"/audit.jsonl")
	state := filepath.Dir(strings.TrimPrefix(testcri.Endpoint(t), "unix://"))
	dead := "unix://" + filepath.Join(state, "not-answering.sock")
	L := luatest.NewState(t, luatest.WithSetup(testcri.Lua),
		luatest.WithEnv(func(env *luax.Env) { env.CRIEndpoint = dead }))
	L.SetGlobal("DEAD", lua.LString(dead))
	run(t, L, `
		local pod = node.pod(node.name("disk"))
		local id = node.run(pod, "app", node.busybox, "sh", "-c", "echo from-disk; exec sleep 1000")
		local c = assert(containers.get(pod.name .. "/app"))
		assert.eq(c.id, id)
		assert.eq(c.source, "disk")
		assert.eq(c.runtime, "containerd")
		assert.eq(c.state, "running")
		assert.eq(c.pod.name, pod.name)
		assert.eq(c.pod.namespace, pod.namespace)
		assert.eq(c.pod.uid, pod.uid)
		assert.eq(c.image, "ctrsh-test/busybox:latest")
		assert.eq(proc.get(c.pid).container_id, id)
		assert.contains(assert(c:env()), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		local seen = false
		for _, r in ipairs(assert(c:top())) do
			if r.pid == c.pid then seen = r.pid_inside == 1 end
		end
		assert.truthy(seen, "top: the init is PID 1 inside")
		assert.gt(assert(c:stats()).memory.usage, 0)
		-- (the shell execs sleep once it has written its line)
		local comm
		for _ = 1, 100 do
			comm = c:run[[ return proc.get(1).comm ]]
			if comm == "sleep" then break end
			sleep(0.05)
		end
		assert.eq(comm, "sleep")
		local lines = {}
		for _ = 1, 50 do
			lines = {}
			for l in assert(c:logs{}) do lines[#lines + 1] = l.line end
			if #lines > 0 then break end
			sleep(0.1)
		end
		assert.eq(lines, {"from-disk"})
		local r, err = c:exec("true")
		assert.eq(r, nil)
		assert.contains(err, "runtime not answering")
		local ok, err = c:stop{timeout = 0}
		assert.eq(ok, nil)
		assert.contains(err, "runtime not answering")
		local list, warning = assert(containers.list{filters = {pod = pod.name}})
		assert.eq(#list, 1)
		assert.eq(list[1].source, "disk")
		local rts = containers.runtimes()
		local names = {}
		for _, r in ipairs(rts) do names[r.name] = r.endpoint end
		assert.eq(names.containerd, DEAD)
	`)
}

// CRI-O's state on disk, from the crio tree (CRI-O is not packaged in
// Debian 12): the pod's container, its processes, its log.
func TestDiskCRIOTree(t *testing.T) {
	L := luatest.NewState(t, luatest.WithEnv(func(env *luax.Env) {
		env.CRIEndpoint = "unix:///run/crio/crio.sock"
		env.DockerHost = "unix://" + t.TempDir() + "/no-docker.sock"
	}))
	run(t, L, `
		fixture("crio")
		local c = assert(containers.get("web"))
		assert.eq(c.source, "disk")
		assert.eq(c.runtime, "cri-o")
		assert.eq(c.pid, 2543)
		assert.eq(c.pod.name, "web-7d9f")
		assert.eq(c.image, "nginx:1.25")
		local pids = {}
		for _, r in ipairs(assert(c:top())) do pids[#pids + 1] = r.pid end
		table.sort(pids)
		assert.eq(pids, {2543, 2600})
		local lines = {}
		for l in assert(c:logs{}) do lines[#lines + 1] = l.stream .. " " .. l.line end
		assert.eq(lines, {"stdout nginx: starting", "stderr a long warning", "stdout ready"})
		local tail = {}
		for l in assert(c:logs{tail = 1}) do tail[#tail + 1] = l.line end
		assert.eq(tail, {"ready"})
		-- A name from the files is text to show: its control characters are gone.
		local liar = assert(containers.get("evil/liar]0;pwned"))
		assert.eq(liar.name, "liar]0;pwned")
		assert.eq(liar.pid, 0)
		-- The list says the engine it could not reach.
		local list, warning = containers.list{all = true}
		assert.eq(#list, 2)
		assert.contains(warning, "no-docker.sock")
	`)
}
