package nsenter

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// procRoot is where /proc is read from (tests of the parsers use trees).
const procRoot = "/proc"

// readNamespaces returns the inode of each namespace of /proc/<who>/ns
// ("self" or a PID); kinds the kernel lacks are absent.
func readNamespaces(who string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(kindNames))
	for _, k := range kindNames {
		p := filepath.Join(procRoot, who, "ns", k)
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && who != "self" {
			if _, err := os.Stat(filepath.Join(procRoot, who)); err != nil {
				return nil, fmt.Errorf("process %s: %w", who, ErrTargetGone)
			}
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil, fmt.Errorf("%s: no inode", p)
		}
		out[k] = st.Ino
	}
	return out, nil
}

// parseEnviron splits /proc/PID/environ.
func parseEnviron(b []byte) []string {
	var out []string
	for _, kv := range bytes.Split(b, []byte{0}) {
		if len(kv) > 0 {
			out = append(out, string(kv))
		}
	}
	return out
}

// defaultPath is the PATH of a command whose environment has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// mergeEnv starts from base and sets every KEY=VALUE of extra; PATH is
// added when neither has one.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra)+1)
	index := map[string]int{}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			return
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range base {
		set(kv)
	}
	for _, kv := range extra {
		set(kv)
	}
	if _, ok := index["PATH"]; !ok {
		out = append(out, "PATH="+defaultPath)
	}
	return out
}
