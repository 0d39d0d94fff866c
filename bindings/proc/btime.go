package proc

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// parseBootTime reads the btime line of /proc/stat: when the system booted,
// in Unix seconds (process start times are counted from it).
func parseBootTime(b []byte) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // intr lines are long
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "btime ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, errors.New("malformed btime line")
		}
		return float64(n), nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no btime line")
}
