// Package journal keeps what happened to containers in an SQLite database
// that outlives the engine: engine events (resumed across engine
// restarts), OOM kills from cgroup counters and the kernel's log, exits
// with their codes, and periodic cgroup samples. The recorder (Record,
// `ctrsh journal record`) is the only writer of a database; the journal
// Lua module reads it, with the engine up or down.
//
// The schema is in migrations/*.sql, applied in order inside BEGIN
// IMMEDIATE transactions; PRAGMA user_version counts the applied ones and
// PRAGMA application_id marks the file as a ctrsh journal, so a foreign
// SQLite file is refused rather than altered.
package journal

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3"
)

// DefaultPath is the journal of a host; CTRSH_JOURNAL moves it.
const DefaultPath = "/var/lib/ctrsh/journal.db"

// Path is the journal's path: $CTRSH_JOURNAL, else DefaultPath.
func Path() string {
	if p := os.Getenv("CTRSH_JOURNAL"); p != "" {
		return p
	}
	return DefaultPath
}

// ApplicationID marks a ctrsh journal in the SQLite header ("ctrj").
const ApplicationID = 0x6374726a

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations are the schema steps, in order; step i (from 1) is applied
// when user_version < i.
func migrations() ([]string, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// Store is an open journal database.
type Store struct {
	Path     string
	db       *sql.DB
	readOnly bool
}

// ErrNoJournal is wrapped by the error of opening a journal that does not
// exist for reading.
var ErrNoJournal = errors.New("no journal")

// dsn builds the connection string: every per-connection setting is in
// it, so each connection of the pool gets them (synchronous=NORMAL, a busy
// timeout, BEGIN IMMEDIATE for transactions). WAL mode is a property of
// the file, set once by Open after it has checked the file is ours.
func dsn(path string, readOnly bool) string {
	u := url.URL{Path: path}
	q := "_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate"
	if readOnly {
		q = "mode=ro&_query_only=1&_busy_timeout=10000"
	}
	return "file:" + u.EscapedPath() + "?" + q
}

// Open opens the journal at path for writing, creating it (its directory
// 0700, the file 0600) and bringing its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	// Create the file ourselves, so that it (and the -wal and -shm files
	// SQLite makes with the same mode) is never readable by others. It is
	// closed before SQLite opens it: closing a descriptor of the file would
	// drop the locks SQLite holds on it (POSIX locks are per process).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	f.Close()
	db, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	s := &Store{Path: path, db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// The file is ours: make it private and put it in WAL mode (readers
	// never block the writer).
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("journal %s: WAL mode: %v (mode %q)", path, err, mode)
	}
	return s, nil
}

// OpenReadOnly opens an existing journal for reading. It never changes the
// file; a file that is not a ctrsh journal, or one written by a newer
// ctrsh, is refused.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("journal %s: %w (is \"ctrsh journal record\" running?)", path, ErrNoJournal)
		}
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("journal %s: not a regular file", path)
	}
	db, err := sql.Open("sqlite3", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	db.SetMaxOpenConns(2)
	s := &Store{Path: path, db: db, readOnly: true}
	appID, version, err := s.header(ctx, db)
	var tables int
	if err == nil {
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables)
	}
	if err == nil {
		err = checkHeader(appID, version, tables)
	}
	if err == nil && version == 0 {
		err = errors.New("empty: the recorder has not created its tables yet")
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) header(ctx context.Context, q querier) (appID, version int64, err error) {
	if err = q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, 0, sqliteErr(err)
	}
	if err = q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, sqliteErr(err)
	}
	return appID, version, nil
}

// checkHeader refuses foreign files and newer schemas. tables is the count
// of objects in the schema.
func checkHeader(appID, version int64, tables int) error {
	n, _ := migrations()
	switch {
	case appID != 0 && appID != ApplicationID:
		return fmt.Errorf("not a ctrsh journal (application_id %#x)", appID)
	case appID == 0 && (version != 0 || tables > 0):
		return errors.New("not a ctrsh journal (an SQLite database of something else)")
	case version > int64(len(n)):
		return fmt.Errorf("schema version %d is newer than this ctrsh knows (%d): upgrade ctrsh", version, len(n))
	}
	return nil
}

// migrate applies the missing schema steps, each in its own BEGIN
// IMMEDIATE transaction that also sets user_version and application_id.
func (s *Store) migrate(ctx context.Context) error {
	steps, err := migrations()
	if err != nil {
		return fmt.Errorf("journal %s: migrations: %w", s.Path, err)
	}
	for {
		done, err := s.migrateOne(ctx, steps)
		if err != nil {
			return fmt.Errorf("journal %s: %w", s.Path, err)
		}
		if done {
			return nil
		}
	}
}

func (s *Store) migrateOne(ctx context.Context, steps []string) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return false, sqliteErr(err)
	}
	defer tx.Rollback()
	appID, version, err := s.header(ctx, tx)
	if err != nil {
		return false, err
	}
	var tables int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return false, sqliteErr(err)
	}
	if err := checkHeader(appID, version, tables); err != nil {
		return false, err
	}
	if version == int64(len(steps)) {
		return true, nil
	}
	next := version + 1
	if _, err := tx.ExecContext(ctx, steps[version]); err != nil {
		return false, fmt.Errorf("schema step %d: %w", next, sqliteErr(err))
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", ApplicationID, next)); err != nil {
		return false, fmt.Errorf("schema step %d: %w", next, sqliteErr(err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("schema step %d: %w", next, sqliteErr(err))
	}
	return false, nil
}

// ErrFull is wrapped by write errors that mean the disk (or the
// filesystem's quota) is full: the transaction was rolled back whole.
var ErrFull = errors.New("disk full")
