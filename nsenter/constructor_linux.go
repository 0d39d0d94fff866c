//go:build linux && cgo

package nsenter

/*
#cgo CFLAGS: -Wall -Wextra -Wno-unused-parameter
extern int ctrsh_nsenter_child_fd;
extern void ctrsh_nsexec(void);

// Runs before the Go runtime: does nothing unless _CTRSH_NSENTER is set.
void __attribute__((constructor)) ctrsh_nsenter_init(void) {
	ctrsh_nsexec();
}
*/
import "C"

// childFD is the status socket of a chunk-mode child, -1 in any other process.
func childFD() int { return int(C.ctrsh_nsenter_child_fd) }
