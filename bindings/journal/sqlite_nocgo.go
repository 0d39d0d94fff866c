//go:build !cgo

package journal

// sqliteErr: without cgo there is no SQLite (go-sqlite3 fails every open
// with its "requires cgo" message).
func sqliteErr(err error) error { return err }
