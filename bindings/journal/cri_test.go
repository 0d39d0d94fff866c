package journal

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctrsh/ctrsh/fixtures/testcri"
)

// The journal records a Kubernetes node's CRI runtime too (the fixture
// containerd): a pod's container's creation, start and death, with its
// exit code, as rows of source "cri", and samples of it.
func TestRecorderCRI(t *testing.T) {
	ep := testcri.Endpoint(t)
	path := filepath.Join(t.TempDir(), "journal.db")
	rec := startRecorder(t, path, "CTRSH_JOURNAL_TEST_CRI="+ep, "CTRSH_JOURNAL_TEST_SAMPLE=300ms")
	pod := testcri.RunPod(t, testcri.Name("journal"))
	id := pod.Run(t, "app", testcri.BusyboxImage, "sleep", "1000")
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := OpenReadOnly(context.Background(), path)
		if err == nil {
			samples, _ := s.Samples(context.Background(), Filter{Container: id})
			s.Close()
			if len(samples) > 0 {
				if samples[0].ContainerName != "app" || samples[0].MemoryUsage == nil {
					t.Errorf("sample %+v: want app's, with its memory", samples[0])
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no sample of the pod's container in 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	testcri.Stop(t, id, 0)
	rows := waitRows(t, path, Filter{Container: id, Sources: []string{SourceCRI}}, "the pod container's create, start and die", 30*time.Second,
		func(evs []*Event) bool { return len(evs) >= 3 && evs[len(evs)-1].Action == "die" })
	var got []string
	for _, ev := range rows {
		got = append(got, ev.Action)
		if ev.ContainerName != "app" || ev.ContainerID != id {
			t.Errorf("row %+v: want container app %s", ev, id)
		}
	}
	if len(got) != 3 || got[0] != "create" || got[1] != "start" || got[2] != "die" {
		t.Errorf("rows %v, want create, start, die", got)
	}
	// The containers module's names of a pod's container select the same
	// rows: pod/name and namespace/pod/name; another pod's do not.
	for ref, want := range map[string]int{
		pod.Name + "/app":                       len(rows),
		pod.Namespace + "/" + pod.Name + "/app": len(rows),
		"other-" + pod.Name + "/app":            0,
		"other/" + pod.Name + "/app":            0,
	} {
		evs := waitRows(t, path, Filter{Container: ref, Sources: []string{SourceCRI}}, "rows of "+ref, time.Second,
			func(evs []*Event) bool { return true })
		if len(evs) != want {
			t.Errorf("Filter{Container: %q}: %d rows, want %d", ref, len(evs), want)
		}
	}
	die := rows[len(rows)-1]
	if die.ExitCode == nil || *die.ExitCode != 137 || die.OOMKilled == nil || *die.OOMKilled {
		t.Errorf("die row: exit code %v, oom_killed %v; want 137, false", die.ExitCode, die.OOMKilled)
	}
	rec.stop(t)
}
