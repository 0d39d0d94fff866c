package proc

import (
	"bytes"
	"fmt"
	"strconv"
)

// userHZ is the kernel's USER_HZ, the unit of times in /proc/PID/stat; it is
// 100 on every Linux architecture ctrsh builds for.
const userHZ = 100

// stat holds the fields of /proc/PID/stat that ctrsh uses.
type stat struct {
	Comm      string
	State     string
	PPID      int
	UTime     uint64 // clock ticks
	STime     uint64
	Threads   int
	StartTime uint64 // clock ticks after boot
	RSSPages  int64
}

// parseStat reads /proc/PID/stat. The comm field is in parentheses and may
// itself hold spaces and parentheses, so the fields are counted from the
// last ')'.
func parseStat(b []byte) (stat, error) {
	var s stat
	l := bytes.IndexByte(b, '(')
	r := bytes.LastIndexByte(b, ')')
	if l < 0 || r < l {
		return s, fmt.Errorf("no comm in %q", truncate(b))
	}
	s.Comm = string(b[l+1 : r])
	f := bytes.Fields(b[r+1:])
	// state(0) ppid(1) ... utime(11) stime(12) ... num_threads(17) itrealvalue(18) starttime(19) vsize(20) rss(21)
	if len(f) < 22 {
		return s, fmt.Errorf("%d fields after comm, want at least 22", len(f))
	}
	s.State = string(f[0])
	var err error
	num := func(i int) int64 {
		if err != nil {
			return 0
		}
		var v int64
		v, err = strconv.ParseInt(string(f[i]), 10, 64)
		return v
	}
	s.PPID = int(num(1))
	s.UTime = uint64(num(11))
	s.STime = uint64(num(12))
	s.Threads = int(num(17))
	s.StartTime = uint64(num(19))
	s.RSSPages = num(21)
	if err != nil {
		return stat{}, fmt.Errorf("bad field: %w", err)
	}
	return s, nil
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
