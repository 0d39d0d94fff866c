package proc

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// Users reads the host's /etc/passwd into uid → name (empty when unreadable).
func (fs *FS) Users() map[int]string {
	b, err := os.ReadFile(filepath.Join(fs.Root, "etc", "passwd"))
	if err != nil {
		return map[int]string{}
	}
	return parsePasswd(b)
}

// parsePasswd reads name:password:uid:... lines; the first name of a uid wins.
func parsePasswd(b []byte) map[int]string {
	out := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.SplitN(sc.Bytes(), []byte(":"), 4)
		if len(f) < 4 || len(f[0]) == 0 || f[0][0] == '#' {
			continue
		}
		uid, err := strconv.Atoi(string(f[2]))
		if err != nil {
			continue
		}
		if _, ok := out[uid]; !ok {
			out[uid] = string(f[0])
		}
	}
	return out
}
