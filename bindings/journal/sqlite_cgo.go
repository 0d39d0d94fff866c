//go:build cgo

package journal

import (
	"errors"
	"fmt"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// sqliteErr marks the errors that mean a full disk with ErrFull.
func sqliteErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrFull || (se.Code == sqlite3.ErrIoErr && se.SystemErrno == syscall.ENOSPC)) {
		return fmt.Errorf("%w: %v", ErrFull, err)
	}
	return err
}
