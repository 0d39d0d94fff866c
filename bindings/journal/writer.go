package journal

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// writer is the recorder's one writer: producers hand it rows over a
// channel, it keeps them in memory and commits them in one transaction per
// tick, so ingestion never waits for the disk and the disk sees few, large
// transactions. A failed commit (a full disk) is rolled back whole and
// retried on later ticks with the same rows: nothing is ever half written,
// and nothing is lost while the outage lasts less than maxPending rows.
type writer struct {
	store *Store
	conn  *sql.Conn // the writer's own connection (its pragmas stay set)
	in    chan any  // *Event or *Sample
	tick  time.Duration
	now   func() time.Time
	logf  func(format string, args ...any)

	retain     time.Duration // 0: keep everything
	maxSize    int64         // bytes of pages in use; 0: no limit
	maxPending int
	walLimit   int64 // bytes the WAL is cut back to after a checkpoint

	events   []*Event
	samples  []*Sample
	dropped  int       // rows dropped from memory while writes failed
	failing  error     // the error of the last failed commit, nil when writing
	failedAt time.Time // when failing started
	lastTry  time.Time // the last failed attempt
	lastAge  time.Time // the last age retention pass
}

// chunkRows is the most rows one transaction writes.
const chunkRows = 500

// retryEvery spaces commit attempts while writes fail.
const retryEvery = time.Second

func newWriter(ctx context.Context, s *Store, cfg *Config) (*writer, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", s.Path, err)
	}
	w := &writer{store: s, conn: conn, in: make(chan any, 65536), tick: cfg.Tick, now: cfg.Now, logf: cfg.logf,
		retain: cfg.Retain, maxSize: cfg.MaxSize, maxPending: cfg.MaxPending}
	// The WAL is checkpointed into the database every few pages and cut
	// back afterwards, so that with a small --max-size it stays small too.
	pages := int64(1000)
	if w.maxSize > 0 {
		pages = min(pages, max(16, w.maxSize/4096/4))
	}
	limit := int64(4 << 20)
	if w.maxSize > 0 {
		limit = min(limit, max(64<<10, w.maxSize/4))
	}
	w.walLimit = limit
	for _, p := range []string{
		fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", pages),
		fmt.Sprintf("PRAGMA journal_size_limit = %d", limit),
	} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			conn.Close()
			return nil, fmt.Errorf("journal %s: %s: %w", s.Path, p, err)
		}
	}
	return w, nil
}

// add queues a row (*Event or *Sample). It waits only while the writer's
// channel is full, which the writer drains between commits.
func (w *writer) add(ctx context.Context, row any) {
	select {
	case w.in <- row:
	case <-ctx.Done():
	}
}

// run commits what arrives until ctx ends, then commits what is left
// (bounded by 30 s) and closes the connection.
func (w *writer) run(ctx context.Context) {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.drain()
			final, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			w.flush(final, true)
			cancel()
			w.conn.Close()
			return
		case row := <-w.in:
			w.take(row)
		case <-t.C:
			w.drain()
			// A commit is not interrupted by ctx: the final flush follows.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			w.flush(fctx, false)
			cancel()
		}
	}
}

func (w *writer) take(row any) {
	switch r := row.(type) {
	case *Event:
		w.events = append(w.events, r)
	case *Sample:
		w.samples = append(w.samples, r)
	}
	if over := len(w.events) + len(w.samples) - w.maxPending; over > 0 {
		// Writes have failed for long: drop the oldest samples first, then
		// the oldest events, and say how many when writing again.
		n := min(over, len(w.samples))
		w.samples = w.samples[n:]
		over -= n
		w.events = w.events[over:]
		w.dropped += n + over
	}
}

func (w *writer) drain() {
	for {
		select {
		case row := <-w.in:
			w.take(row)
		default:
			return
		}
	}
}

// flush commits the pending rows, then applies retention.
func (w *writer) flush(ctx context.Context, final bool) {
	now := w.now()
	if len(w.events)+len(w.samples) > 0 {
		if w.failing != nil && !final && now.Sub(w.lastTry) < retryEvery {
			return // while writes fail, try once a second
		}
		if w.dropped > 0 {
			w.events = append(w.events, w.droppedRow(now))
		}
		// In chunks, so that one transaction (and the WAL) stays small and
		// the size limit is checked between them.
		for len(w.events)+len(w.samples) > 0 {
			ne := min(len(w.events), chunkRows)
			ns := min(len(w.samples), chunkRows-ne)
			if err := w.commit(ctx, w.events[:ne], w.samples[:ns]); err != nil {
				w.noteFailure(now, err)
				return
			}
			w.events, w.samples = w.events[ne:], w.samples[ns:]
			if w.failing != nil {
				w.logf("journal %s: writing again after %s (%d rows dropped meanwhile)", w.store.Path,
					now.Sub(w.failedAt).Round(time.Second), w.dropped)
				w.failing = nil
			}
			w.dropped = 0
			if len(w.events)+len(w.samples) > 0 && w.maxSize > 0 {
				if err := w.enforceSize(ctx); err != nil {
					w.noteFailure(now, err)
					return
				}
			}
		}
		w.events, w.samples = nil, nil
	}
	if w.failing != nil && now.Sub(w.lastTry) < retryEvery {
		return
	}
	if err := w.retention(ctx, now); err != nil {
		if ctx.Err() == nil {
			w.noteFailure(now, err)
		}
		return
	}
	if w.failing != nil {
		w.logf("journal %s: writing again after %s", w.store.Path, now.Sub(w.failedAt).Round(time.Second))
		w.failing = nil
	}
}

func (w *writer) noteFailure(now time.Time, err error) {
	w.lastTry = now
	if w.failing == nil {
		w.logf("journal %s: cannot write: %v; keeping rows in memory (up to %d) and retrying every second", w.store.Path, err, w.maxPending)
		w.failing, w.failedAt = err, now
	}
}

func (w *writer) droppedRow(now time.Time) *Event {
	return &Event{Time: now, Source: SourceCtrsh, Type: "journal", Action: ActionOverflow,
		Attributes: map[string]string{"dropped": strconv.Itoa(w.dropped), "why": "writes failed"}}
}

func (w *writer) commit(ctx context.Context, events []*Event, samples []*Sample) error {
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return sqliteErr(err)
	}
	defer tx.Rollback()
	if err := insertRows(ctx, tx, events, samples); err != nil {
		return err
	}
	return sqliteErr(tx.Commit())
}

// retention deletes rows older than retain (a minute apart) and, when the
// pages in use pass maxSize, the oldest rows of each table until they are
// back under 80% of it.
func (w *writer) retention(ctx context.Context, now time.Time) error {
	if w.retain > 0 && now.Sub(w.lastAge) >= time.Minute {
		cut := now.Add(-w.retain).UnixNano()
		for _, table := range []string{"events", "samples"} {
			for {
				res, err := w.conn.ExecContext(ctx, "DELETE FROM "+table+" WHERE id IN (SELECT id FROM "+table+" WHERE time_ns < ? LIMIT 5000)", cut)
				if err != nil {
					return sqliteErr(err)
				}
				if n, _ := res.RowsAffected(); n < 5000 {
					break
				}
			}
		}
		w.lastAge = now
	}
	if w.maxSize <= 0 {
		return nil
	}
	if err := w.enforceSize(ctx); err != nil {
		return err
	}
	// Under a size limit the WAL counts too: once it passes its limit,
	// checkpoint it and cut it back (it cannot while a reader holds it;
	// then the next pass does).
	if fi, err := os.Stat(w.store.Path + "-wal"); err == nil && fi.Size() > w.walLimit {
		if _, err := w.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return sqliteErr(err)
		}
	}
	return nil
}

// enforceSize deletes the oldest rows of each table while the pages in use
// pass maxSize, until they are under 80% of it. Deleting a share of the
// rows frees fewer pages than that share (index pages empty only when all
// their entries are gone), so it measures again after each round.
func (w *writer) enforceSize(ctx context.Context) error {
	target := w.maxSize * 8 / 10
	for round := 0; ; round++ {
		used, err := w.usedBytes(ctx)
		if err != nil || used <= w.maxSize && (round == 0 || used <= target) {
			return err
		}
		frac := max(float64(used-target)/float64(used), 0.05)
		n, err := w.deleteOldest(ctx, frac)
		if err != nil || n == 0 {
			return err
		}
	}
}

// deleteOldest deletes the oldest share frac of each table's rows, in one
// transaction, and returns how many rows went.
func (w *writer) deleteOldest(ctx context.Context, frac float64) (int64, error) {
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, sqliteErr(err)
	}
	defer tx.Rollback()
	var deleted int64
	for _, table := range []string{"events", "samples"} {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			return 0, sqliteErr(err)
		}
		k := int64(math.Ceil(float64(n) * frac))
		if k == 0 {
			continue
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id IN (SELECT id FROM "+table+" ORDER BY time_ns, id LIMIT ?)", k)
		if err != nil {
			return 0, sqliteErr(err)
		}
		d, _ := res.RowsAffected()
		deleted += d
	}
	return deleted, sqliteErr(tx.Commit())
}

// usedBytes is the size of the database's pages in use (free pages are
// reused before the file grows).
func (w *writer) usedBytes(ctx context.Context) (int64, error) {
	var size, count, free int64
	for _, p := range []struct {
		q   string
		dst *int64
	}{{"PRAGMA page_size", &size}, {"PRAGMA page_count", &count}, {"PRAGMA freelist_count", &free}} {
		if err := w.conn.QueryRowContext(ctx, p.q).Scan(p.dst); err != nil {
			return 0, sqliteErr(err)
		}
	}
	return (count - free) * size, nil
}
