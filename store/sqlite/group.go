package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Records written at the same time go in one transaction (a group
// commit): every push step records its objects' pending operations one
// by one, just before each push, so that a worker with several push steps
// running committed one small transaction per object or two, each writing
// the same pages again. The one writer connection runs one transaction at
// a time anyway; the writes that queue while one runs go together in the
// next, and one that fails leaves the others as if each had been its own
// transaction (see commitGroup).
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupedWrite
	writing bool
}

type groupedWrite struct {
	fn   func(context.Context, *sql.Tx) error
	done chan error
}

// grouped runs fn in a transaction it may share with other writes, and
// returns once that transaction has committed, or ctx is done. fn is given
// a context without ctx's cancellation: SQLite ends the whole transaction
// when a statement in it is interrupted. A write whose caller left is
// still made, as any write whose answer is lost may be.
func (s *Store) grouped(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	w := &groupedWrite{fn: fn, done: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if !g.writing {
		g.writing = true
		go s.drainGroups(context.WithoutCancel(ctx))
	}
	g.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drainGroups commits what is queued until nothing is.
func (s *Store) drainGroups(ctx context.Context) {
	g := &s.group
	for {
		g.mu.Lock()
		ws := g.queue
		g.queue = nil
		if len(ws) == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		errs := s.commitGroup(ctx, ws)
		for i, w := range ws {
			w.done <- errs[i]
		}
	}
}

// commitGroup runs the writes in one transaction and returns their
// errors. When one fails, nothing of the group is kept and each write is
// made again in a transaction of its own, so that the others are written
// as if each had been alone: failures are rare, and a savepoint around
// every write cost more than a commit saves.
func (s *Store) commitGroup(ctx context.Context, ws []*groupedWrite) []error {
	errs := make([]error, len(ws))
	alone := func() []error {
		for i, w := range ws {
			errs[i] = s.tx(ctx, func(tx *sql.Tx) error { return w.fn(ctx, tx) })
		}
		return errs
	}
	if len(ws) == 1 {
		return alone()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return alone()
	}
	for _, w := range ws {
		if err := w.fn(ctx, tx); err != nil {
			tx.Rollback()
			return alone()
		}
	}
	if err := tx.Commit(); err != nil {
		return alone()
	}
	return errs
}
