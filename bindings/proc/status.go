package proc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// status holds /proc/PID/status: every line, and the fields ctrsh uses.
type status struct {
	Lines   [][2]string // key, value in file order
	State   string      // the letter: R, S, D, Z, T...
	PPID    int
	UID     [4]int // real, effective, saved, filesystem
	GID     [4]int
	Threads int
	NSpid   []int // outermost namespace first; nil on kernels before 4.1
}

// parseStatus reads /proc/PID/status ("Key:\tvalue" lines).
func parseStatus(b []byte) (status, error) {
	var s status
	s.Lines = make([][2]string, 0, 64)
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		k := string(line[:i])
		v := string(bytes.TrimSpace(line[i+1:]))
		s.Lines = append(s.Lines, [2]string{k, v})
		var err error
		switch k {
		case "State":
			if v != "" {
				s.State = v[:1]
			}
		case "PPid":
			s.PPID, err = strconv.Atoi(v)
		case "Uid":
			err = ids(v, &s.UID)
		case "Gid":
			err = ids(v, &s.GID)
		case "Threads":
			s.Threads, err = strconv.Atoi(v)
		case "NSpid":
			for _, f := range strings.Fields(v) {
				n, e := strconv.Atoi(f)
				if e != nil {
					err = e
					break
				}
				s.NSpid = append(s.NSpid, n)
			}
		}
		if err != nil {
			return status{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	return s, nil
}

func ids(v string, out *[4]int) error {
	f := strings.Fields(v)
	if len(f) != 4 {
		return fmt.Errorf("%d ids, want 4", len(f))
	}
	for i := range f {
		n, err := strconv.Atoi(f[i])
		if err != nil {
			return err
		}
		out[i] = n
	}
	return nil
}

// statusValue converts a status value for Lua: "N kB" becomes bytes, a
// plain integer a number, anything else stays a string.
func statusValue(v string) any {
	if n, ok := strings.CutSuffix(v, " kB"); ok {
		if i, err := strconv.ParseUint(strings.TrimSpace(n), 10, 64); err == nil {
			return i * 1024
		}
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	return v
}
