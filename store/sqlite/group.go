package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Records written at the same time go in one transaction (a group
// commit): every push step records its objects' pending operations one
// by one, just before each push, so that a worker with several push steps
// running committed one small transaction per object or two, each writing
// the same pages again. The one writer connection runs one transaction at
// a time anyway; the writes that queue while one runs go together in the
// next, each within a savepoint of its own, so that one that fails leaves
// the others as if each had been its own transaction.
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

// commitGroup runs the writes in one transaction, each in a savepoint, and
// returns their errors.
func (s *Store) commitGroup(ctx context.Context, ws []*groupedWrite) []error {
	errs := make([]error, len(ws))
	all := func(err error) []error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	if len(ws) == 1 {
		errs[0] = s.tx(ctx, func(tx *sql.Tx) error { return ws[0].fn(ctx, tx) })
		return errs
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return all(fmt.Errorf("begin state store transaction: %w", err))
	}
	for i, w := range ws {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			tx.Rollback()
			return all(err)
		}
		if errs[i] = w.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				tx.Rollback()
				return all(errors.Join(errs[i], err))
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE write`); err != nil {
			tx.Rollback()
			return all(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return all(err)
	}
	return errs
}
