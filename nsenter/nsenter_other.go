//go:build !(linux && cgo)

package nsenter

import "context"

// Exec is not available in this build: it returns ErrNotSupported.
func Exec(ctx context.Context, opts Options, argv []string) (code int, err error) {
	return 0, ErrNotSupported
}

// Run is not available in this build: it returns ErrNotSupported.
func Run(ctx context.Context, opts Options, payload []byte) (result []byte, code int, err error) {
	return nil, 0, ErrNotSupported
}

// ChildPayload is always false in this build.
func ChildPayload() (payload []byte, ok bool) { return nil, false }

// ChildReply fails in this build.
func ChildReply(result []byte) error { return ErrNotSupported }

// ChildFail fails in this build.
func ChildFail(msg string) error { return ErrNotSupported }
