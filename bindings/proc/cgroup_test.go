package proc

import (
	"regexp"
	"strings"
	"testing"
)

// The regular expressions scopeID, runcID and isID replaced: they must
// agree with them on every name.
var (
	oldScopeRE = regexp.MustCompile(`^(docker|cri-containerd|crio|libpod|nerdctl)-([0-9a-f]{64})(?:\.scope)?$`)
	oldRuncRE  = regexp.MustCompile(`:(docker|cri-containerd|crio):([0-9a-f]{64})$`)
	oldHexRE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkCgroupName compares the matchers of one cgroup name with the
// regular expressions.
func checkCgroupName(t *testing.T, c string) {
	t.Helper()
	var want [2]string
	if m := oldScopeRE.FindStringSubmatch(c); m != nil {
		want = [2]string{m[1], m[2]}
	}
	if rt, id, ok := scopeID(c); [2]string{rt, id} != want || ok != (want[1] != "") {
		t.Errorf("scopeID(%q) = %q, %q, %v; want %q", c, rt, id, ok, want)
	}
	want = [2]string{}
	if m := oldRuncRE.FindStringSubmatch(c); m != nil {
		want = [2]string{m[1], m[2]}
	}
	if rt, id, ok := runcID(c); [2]string{rt, id} != want || ok != (want[1] != "") {
		t.Errorf("runcID(%q) = %q, %q, %v; want %q", c, rt, id, ok, want)
	}
	if got, want := IsContainerID(c), oldHexRE.MatchString(c); got != want {
		t.Errorf("IsContainerID(%q) = %v; want %v", c, got, want)
	}
}

// cgroupNameSeeds are names of every form, and near misses.
func cgroupNameSeeds() []string {
	const id = "3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
	seeds := []string{"", ":", "-", ".scope", id, id[:63], id + "0", strings.ToUpper(id), id[:63] + "g"}
	for _, rt := range []string{"docker", "cri-containerd", "crio", "libpod", "nerdctl", "podman", "cri", "crio-conmon", ""} {
		for _, tail := range []string{id, id + ".scope", id + ".scope.scope", id + ".bak", id[:63], id[:63] + ".scope", id + "a"} {
			seeds = append(seeds, rt+"-"+tail, "x"+rt+"-"+tail, rt+"_"+tail,
				":"+rt+":"+tail, "pod1.slice:"+rt+":"+tail, rt+":"+tail, "a:"+rt+"::"+tail)
		}
	}
	return seeds
}

func TestCgroupNameMatchers(t *testing.T) {
	for _, c := range cgroupNameSeeds() {
		checkCgroupName(t, c)
	}
}

func FuzzCgroupNameMatchers(f *testing.F) {
	for _, c := range cgroupNameSeeds() {
		f.Add(c)
	}
	f.Fuzz(checkCgroupName)
}
