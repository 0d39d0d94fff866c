package journal_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/ctrsh/ctrsh/bindings/journal"
	"github.com/ctrsh/ctrsh/bindings/luatest"
	"github.com/ctrsh/ctrsh/bindings/luax"
	"github.com/ctrsh/ctrsh/fixtures/testengine"
)

const (
	webID = "3f2a1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
	dbID  = "9b8a7c6d5e4f30211203f4e5d6c7b8a9901a2b3c4d5e6f708192a3b4c5d6e7f8"
)

// writeJournal makes a journal with a known history: web created,
// started, OOM-killed (counter and kernel log), died with 137, restarted;
// db created; the engine down and up; samples of web.
func writeJournal(t *testing.T, path string, base time.Time) {
	t.Helper()
	s, err := journal.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	code, restarts, oomKilled, kills, pid := 137, 1, true, uint64(1), 4242
	ev := func(sec int, id, name, action string) *journal.Event {
		return &journal.Event{Time: at(sec), Source: journal.SourceEngine, Type: "container", Action: action, ActorID: id,
			ContainerID: id, ContainerName: name, Image: "ctrsh-test/busybox", Attributes: map[string]string{"name": name},
			Dedup: journal.EngineDedup("container", action, id, at(sec).UnixNano())}
	}
	die := ev(40, webID, "web", "die")
	die.ExitCode, die.RestartCount, die.OOMKilled = &code, &restarts, &oomKilled
	events := []*journal.Event{
		ev(0, webID, "web", "create"), ev(1, webID, "web", "start"), ev(2, dbID, "db", "create"),
		{Time: at(30), Source: journal.SourceCgroup, Type: "container", Action: journal.ActionOOMKill, ContainerID: webID,
			ContainerName: "web", OOMKills: &kills, Memcg: "/docker/" + webID},
		// The kernel's row was written before the name was known.
		journal.OOMKill{Time: at(30), Source: journal.SourceKmsg, ContainerID: webID, PID: pid,
			Comm: "tail", Memcg: "/docker/" + webID}.Event(),
		die, ev(41, webID, "web", "start"),
		{Time: at(50), Source: journal.SourceCtrsh, Type: "engine", Action: journal.ActionEngineDown, Attributes: map[string]string{"error": "EOF"}},
		{Time: at(52), Source: journal.SourceCtrsh, Type: "engine", Action: journal.ActionEngineUp},
	}
	ws, limit, cpu := uint64(10<<20), uint64(32<<20), uint64(5e9)
	var samples []*journal.Sample
	for i := 0; i < 3; i++ {
		samples = append(samples, &journal.Sample{Time: at(10 * (i + 1)), ContainerID: webID, ContainerName: "web",
			MemoryWorkingSet: &ws, MemoryLimit: &limit, CPUUsageNs: &cpu})
	}
	if err := s.Append(context.Background(), events, samples); err != nil {
		t.Fatal(err)
	}
}

func TestLua(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	writeJournal(t, path, base)
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite3", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("CTRSH_JOURNAL", path)
	luatest.Run(t, "testdata/*_test.lua",
		// The journal is read with no engine at all.
		luatest.WithEnv(func(env *luax.Env) { env.DockerHost = "unix://" + filepath.Join(dir, "no-engine.sock") }),
		luatest.WithSetup(func(t *testing.T, L *lua.LState) {
			L.SetGlobal("JOURNAL", lua.LString(path))
			L.SetGlobal("FOREIGN", lua.LString(foreign))
			L.SetGlobal("BASE", lua.LNumber(base.Unix()))
			L.SetGlobal("WEB_ID", lua.LString(webID))
			L.SetGlobal("MISSING", lua.LString(filepath.Join(dir, "missing.db")))
		}))
}

func TestOpenRefusesForeignAndNewer(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	mk := func(name, sql1 string) string {
		p := filepath.Join(dir, name)
		db, err := sql.Open("sqlite3", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(sql1); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		mk("other.db", "CREATE TABLE t (x)"):            "not a ctrsh journal",
		mk("otherapp.db", "PRAGMA application_id = 42"): "not a ctrsh journal (application_id 0x2a)",
		mk("newer.db", fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 99", journal.ApplicationID)): "newer than this ctrsh",
	}
	for p, want := range cases {
		before, _ := os.ReadFile(p)
		if _, err := journal.Open(ctx, p); err == nil || !contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v, want an error with %q", filepath.Base(p), err, want)
		}
		if _, err := journal.OpenReadOnly(ctx, p); err == nil || !contains(err.Error(), want) {
			t.Errorf("OpenReadOnly(%s) = %v, want an error with %q", filepath.Base(p), err, want)
		}
		if after, _ := os.ReadFile(p); string(after) != string(before) {
			t.Errorf("%s was changed by a refused open", filepath.Base(p))
		}
	}
	// A journal opens again, at its version, and is not migrated twice.
	p := filepath.Join(dir, "new", "journal.db")
	for i := 0; i < 2; i++ {
		s, err := journal.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v, want 0600", p, fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(p)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("%s: want 0700 (%v)", filepath.Dir(p), err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// c:history through the recorder and the engine, and the same rows with
// the engine's client pointed nowhere (journal.events).
func TestHistory(t *testing.T) {
	testengine.NeedRoot(t, "the recorder reads cgroups and /dev/kmsg")
	path := filepath.Join(t.TempDir(), "journal.db")
	journal.StartRecorder(t, path)
	id := testengine.Run(t, testengine.BusyboxImage, "sh", "-c", "exit 7")
	testengine.MustDocker(t, "wait", id)
	journal.WaitRows(t, path, journal.Filter{Container: id, Actions: []string{"die"}}, "the die", 30*time.Second,
		func(evs []*journal.Event) bool { return len(evs) > 0 })
	t.Setenv("CTRSH_JOURNAL", path)
	L := luatest.NewState(t)
	L.SetGlobal("ID", lua.LString(id))
	if err := L.DoString(`
		local c = assert(docker.container(ID))
		local h = assert(c:history{since = "5m"})
		local got = {}
		for _, e in ipairs(h) do got[#got + 1] = e.action end
		assert.eq(got, {"create", "start", "die"})
		assert.eq(h[3].exit_code, 7)
		assert.eq(h[3].restart_count, 0)
		assert.eq(h[3].oom_killed, false)
		assert.eq(h[3].name, c.name)
		assert.eq(#assert(c:history{action = "die"}), 1)
		assert.error_matches(function() c:history{container = "x"} end, "unknown option")
	`); err != nil {
		t.Fatal(err)
	}
}

// AppendOOM is how other sources (an eBPF probe) add OOM kills: one row,
// written once however often it is appended with the same dedup key.
func TestAppendOOM(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := journal.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := journal.OOMKill{Time: time.Unix(1796000000, 5), Source: "trace", ContainerID: webID, ContainerName: "web",
		PID: 77, Comm: "java", Memcg: "/docker/" + webID, Attributes: map[string]string{"probe": "oom_kill_process"}, Dedup: "t:1:77"}
	for i := 0; i < 2; i++ {
		if err := s.AppendOOM(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendOOM(ctx, journal.OOMKill{PID: 1}); err == nil || !strings.Contains(err.Error(), "without a source") {
		t.Errorf("AppendOOM without a source: %v", err)
	}
	evs, err := s.Events(ctx, journal.Filter{Container: "web", Actions: []string{journal.ActionOOMKill}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d rows, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Source != "trace" || *ev.PID != 77 || ev.Comm != "java" || ev.Memcg != "/docker/"+webID || !ev.Time.Equal(k.Time) ||
		ev.Attributes["probe"] != "oom_kill_process" || ev.Type != "container" {
		t.Errorf("row %+v", *ev)
	}
}
