package ns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Kinds are the namespace kinds of /proc/PID/ns that ns.of reports, in the
// order ns.same lists them.
var Kinds = []string{"mnt", "pid", "net", "ipc", "uts", "user", "cgroup", "time"}

// Of reads the namespace inodes of process pid of host root ("/" on a real
// host): kind → inode, for every kind of Kinds the kernel has.
func Of(root string, pid int) (map[string]uint64, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("process %d: no such process", pid)
	}
	dir := filepath.Join(root, "proc", strconv.Itoa(pid), "ns")
	out := make(map[string]uint64, len(Kinds))
	for _, k := range Kinds {
		link, err := os.Readlink(filepath.Join(dir, k))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if _, serr := os.Stat(filepath.Dir(dir)); serr != nil {
					return nil, fmt.Errorf("process %d: no such process", pid)
				}
				continue // a kind this kernel does not have (time before 5.6)
			}
			if errors.Is(err, syscall.ESRCH) {
				return nil, fmt.Errorf("process %d: no such process", pid)
			}
			return nil, fmt.Errorf("process %d: ns/%s: %w", pid, k, err)
		}
		ino, err := parseLink(k, link)
		if err != nil {
			return nil, fmt.Errorf("process %d: ns/%s: %w", pid, k, err)
		}
		out[k] = ino
	}
	return out, nil
}

// parseLink reads a namespace link's target: "pid:[4026531836]".
func parseLink(kind, link string) (uint64, error) {
	rest, ok := strings.CutPrefix(link, kind+":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, fmt.Errorf("unexpected link %q", link)
	}
	return strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
}

// Same compares the namespaces of processes a and b. It returns whether
// they share every kind of kinds (nil: every kind both have) and the kinds
// that differ, in the order of Kinds. A kind asked for that one of them
// lacks counts as differing.
func Same(root string, a, b int, kinds []string) (bool, []string, error) {
	for _, k := range kinds {
		if !validKind(k) {
			return false, nil, fmt.Errorf("unknown namespace kind %q (known: %s)", k, strings.Join(Kinds, ", "))
		}
	}
	na, err := Of(root, a)
	if err != nil {
		return false, nil, err
	}
	nb, err := Of(root, b)
	if err != nil {
		return false, nil, err
	}
	return compare(na, nb, kinds)
}

func compare(na, nb map[string]uint64, kinds []string) (bool, []string, error) {
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	diff := []string{}
	for _, k := range Kinds {
		ia, oka := na[k]
		ib, okb := nb[k]
		if kinds == nil {
			if oka && okb && ia != ib {
				diff = append(diff, k)
			}
			continue
		}
		if want[k] && (!oka || !okb || ia != ib) {
			diff = append(diff, k)
		}
	}
	return len(diff) == 0, diff, nil
}

func validKind(k string) bool {
	i := sort.SearchStrings(sortedKinds, k)
	return i < len(sortedKinds) && sortedKinds[i] == k
}

var sortedKinds = func() []string {
	s := append([]string(nil), Kinds...)
	sort.Strings(s)
	return s
}()
