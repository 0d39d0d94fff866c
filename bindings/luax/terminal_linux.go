package luax

import "golang.org/x/sys/unix"

// IsTerminal reports whether v (a reader or a writer, usually an *os.File)
// is a file open on a terminal: ctrsh's one test for "a person is there".
func IsTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
