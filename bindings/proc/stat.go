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

// statFields is how many fields after comm parseStat needs: up to rss.
const statFields = 22

// parseStat reads /proc/PID/stat. The comm field is in parentheses and may
// itself hold spaces and parentheses, so the fields are counted from the
// last ')'. Only comm is copied: c:top parses a stat per process.
func parseStat(b []byte) (stat, error) {
	var s stat
	l := bytes.IndexByte(b, '(')
	r := bytes.LastIndexByte(b, ')')
	if l < 0 || r < l {
		return s, fmt.Errorf("no comm in %q", truncate(b))
	}
	// state(0) ppid(1) ... utime(11) stime(12) ... num_threads(17) itrealvalue(18) starttime(19) vsize(20) rss(21)
	var f [statFields][]byte
	n := 0
	for rest := b[r+1:]; n < statFields; n++ {
		if f[n], rest = nextField(rest); f[n] == nil {
			break
		}
	}
	if n < statFields {
		return s, fmt.Errorf("%d fields after comm, want at least %d", n, statFields)
	}
	s.Comm = string(b[l+1 : r])
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

// nextField returns the first field of b, split at ASCII white space as in
// the kernel's number lists, and the rest of b after it; nil when b has no
// more fields. Unlike bytes.Fields, it allocates nothing.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
