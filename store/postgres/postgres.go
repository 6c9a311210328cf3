// Package postgres is the state store for deployments where several workers
// on several machines share one store: a PostgreSQL database, through pgx.
//
// The DSN is a libpq connection string or URL, for example
// postgres://provisioner:PASSWORD@db.example.org:5432/provisioner?sslmode=verify-full;
// pgxpool settings such as pool_max_conns may be added to it. The tables are
// created in the first schema of the search path when missing.
package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// Keys and names compare byte by byte (COLLATE "C"), as in the SQLite store
// and Go, whatever the database's collation: iteration order and paging by
// "greater than" must agree with the callers' string order.
const schema = `
CREATE TABLE IF NOT EXISTS objects (
	job text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	source_id text COLLATE "C" NOT NULL,
	source_hash text NOT NULL DEFAULT '',
	target_id text COLLATE "C" NOT NULL DEFAULT '',
	active boolean NOT NULL DEFAULT false,
	pushed text,
	members text,
	refs text,
	escrow text,
	escrow_due timestamptz,
	updated_at timestamptz NOT NULL,
	operation text,
	PRIMARY KEY (job, type, source_id)
);
ALTER TABLE objects ADD COLUMN IF NOT EXISTS operation text;
CREATE INDEX IF NOT EXISTS objects_escrow ON objects (job, type, escrow_due) WHERE escrow_due IS NOT NULL;
CREATE TABLE IF NOT EXISTS staged (
	job text COLLATE "C" NOT NULL,
	cycle text COLLATE "C" NOT NULL,
	seq bigint NOT NULL,
	type text NOT NULL,
	object text NOT NULL,
	outcome bytea,
	PRIMARY KEY (job, cycle, seq)
);
-- seen holds the marks, a row per ID, of cycles begun by earlier versions;
-- marks are written to seen_runs (see store.SeenMarks).
CREATE TABLE IF NOT EXISTS seen (
	job text COLLATE "C" NOT NULL,
	cycle text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	source_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (job, cycle, type, source_id)
);
CREATE TABLE IF NOT EXISTS seen_runs (
	job text COLLATE "C" NOT NULL,
	cycle text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	ids bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_runs_cycle ON seen_runs (job, cycle, type);
CREATE TABLE IF NOT EXISTS source_groups (
	job text COLLATE "C" NOT NULL,
	group_id text COLLATE "C" NOT NULL,
	name text NOT NULL DEFAULT '',
	folded_name text COLLATE "C" NOT NULL DEFAULT '',
	hash text NOT NULL DEFAULT '',
	PRIMARY KEY (job, group_id)
);
CREATE INDEX IF NOT EXISTS source_groups_name ON source_groups (job, folded_name);
CREATE TABLE IF NOT EXISTS source_members (
	job text COLLATE "C" NOT NULL,
	group_id text COLLATE "C" NOT NULL,
	member_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (job, group_id, member_id)
);
CREATE INDEX IF NOT EXISTS source_members_member ON source_members (job, member_id);
CREATE TABLE IF NOT EXISTS pending (
	job text COLLATE "C" NOT NULL,
	work text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	source_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (job, work, type, source_id)
);
CREATE TABLE IF NOT EXISTS target_objects (
	job text COLLATE "C" NOT NULL,
	cycle text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	target_id text COLLATE "C" NOT NULL,
	object text NOT NULL,
	PRIMARY KEY (job, cycle, type, target_id)
);
CREATE TABLE IF NOT EXISTS target_keys (
	job text COLLATE "C" NOT NULL,
	cycle text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	attribute text COLLATE "C" NOT NULL,
	value text COLLATE "C" NOT NULL,
	target_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (job, cycle, type, attribute, value, target_id)
);
CREATE TABLE IF NOT EXISTS target_indexes (
	job text COLLATE "C" NOT NULL,
	cycle text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	objects bigint NOT NULL,
	PRIMARY KEY (job, cycle, type)
);
CREATE TABLE IF NOT EXISTS settled (
	job text COLLATE "C" PRIMARY KEY,
	cycle text NOT NULL
);
CREATE TABLE IF NOT EXISTS watermarks (
	job text COLLATE "C" NOT NULL,
	type text COLLATE "C" NOT NULL,
	value text NOT NULL,
	PRIMARY KEY (job, type)
);
`

// schemaLock is the advisory lock key that serializes schema creation.
const schemaLock = 0x70726f76 // "prov"

// Store is the PostgreSQL state store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn and creates the store's tables when
// missing. Errors name the server and database, never the DSN, which may
// hold a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's own message quotes the DSN, redacted only on a best-effort basis.
		return nil, errors.New("open PostgreSQL state store: the DSN cannot be parsed (expected postgres://user:password@host:port/database or host=... dbname=... key=value pairs)")
	}
	where := describe(cfg.ConnConfig)
	secret := cfg.ConnConfig.Password
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL state store %s: %w", where, redact(err, secret))
	}
	if err := createSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open PostgreSQL state store %s: %w", where, redact(err, secret))
	}
	return &Store{pool: pool}, nil
}

func createSchema(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Workers starting together would race in the catalog: concurrent
		// CREATE TABLE IF NOT EXISTS can fail on a unique index.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
}

// describe names the server and database of a configuration.
func describe(c *pgx.ConnConfig) string {
	host := c.Host
	if !strings.HasPrefix(host, "/") {
		host = net.JoinHostPort(host, strconv.Itoa(int(c.Port)))
	}
	return host + "/" + c.Database
}

// redactedError keeps a password out of an error's text, should a driver
// or server message ever quote it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "xxxxx"), err: err}
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// attempts bounds how often a write is tried when PostgreSQL aborts it
// to break a deadlock between workers or, under serializable isolation,
// on a serialization failure.
const attempts = 5

// write sends the statements queue adds as one batch: pgx runs a batch in
// one implicit transaction, so they apply together, in one round trip.
func (s *Store) write(ctx context.Context, queue func(b *pgx.Batch)) error {
	for attempt := 1; ; attempt++ {
		b := &pgx.Batch{}
		queue(b)
		if b.Len() == 0 {
			return nil
		}
		err := s.pool.SendBatch(ctx, b).Close()
		var pgErr *pgconn.PgError
		if err == nil || attempt == attempts || !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") {
			return err
		}
	}
}

// exec runs one write statement.
func (s *Store) exec(ctx context.Context, sql string, args ...any) error {
	return s.write(ctx, func(b *pgx.Batch) { b.Queue(sql, args...) })
}

// latest returns the items with distinct keys, the last of each winning as
// if they had been written in turn, sorted by key: writers that lock rows
// in the same order cannot deadlock each other.
func latest[T any, K cmp.Ordered](items []T, key func(T) K) []T {
	byKey := make(map[K]T, len(items))
	for _, it := range items {
		byKey[key(it)] = it
	}
	return slices.SortedFunc(maps.Values(byKey), func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}

// sortedIDs returns a sorted copy of ids without repeats.
func sortedIDs(ids []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(ids)))
}

const objectColumns = `type, source_id, source_hash, target_id, active, pushed, members, refs, escrow, updated_at, operation`

func scanObject(row pgx.CollectableRow) (store.ObjectState, error) {
	var (
		o                                        store.ObjectState
		typ                                      string
		pushed, members, refs, escrow, operation *string
	)
	if err := row.Scan(&typ, &o.SourceID, &o.SourceHash, &o.TargetID, &o.Active, &pushed, &members, &refs, &escrow, &o.UpdatedAt, &operation); err != nil {
		return o, err
	}
	o.Type = connectors.ObjectType(typ)
	o.UpdatedAt = o.UpdatedAt.UTC()
	if err := unmarshalIf(pushed, &o.Pushed); err != nil {
		return o, fmt.Errorf("object %s: pushed values: %w", o.SourceID, err)
	}
	if err := unmarshalIf(members, &o.Members); err != nil {
		return o, fmt.Errorf("object %s: members: %w", o.SourceID, err)
	}
	if err := unmarshalIf(refs, &o.References); err != nil {
		return o, fmt.Errorf("object %s: references: %w", o.SourceID, err)
	}
	if escrow != nil {
		o.Escrow = &store.Escrow{}
		if err := json.Unmarshal([]byte(*escrow), o.Escrow); err != nil {
			return o, fmt.Errorf("object %s: escrow: %w", o.SourceID, err)
		}
	}
	if operation != nil {
		o.Operation = &store.Operation{}
		if err := json.Unmarshal([]byte(*operation), o.Operation); err != nil {
			return o, fmt.Errorf("object %s: pending operation: %w", o.SourceID, err)
		}
	}
	return o, nil
}

func unmarshalIf(s *string, v any) error {
	if s == nil || *s == "" {
		return nil
	}
	return json.Unmarshal([]byte(*s), v)
}

// marshalIf encodes v, or returns nil (NULL) when empty.
func marshalIf(v any, empty bool) (*string, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	s := string(b)
	return &s, err
}

// probe completes a query of objects o to select those of job $1, type $2
// and the source IDs $3 with one look-up of the primary key per ID. A plain
// "source_id = ANY($3)" or a join lets the planner read every object of the
// job instead, which it does when statistics miss the job or the cycle: a
// new job, or a cycle-scoped table while a new cycle fills it. The lateral
// subquery, kept apart by OFFSET 0, can only be run once per ID.
func probe(query string) string {
	return `SELECT p.* FROM unnest($3::text[]) AS q(source_id) CROSS JOIN LATERAL (` + query +
		` WHERE o.job = $1 AND o.type = $2 AND o.source_id = q.source_id OFFSET 0) p`
}

// Objects returns the known states of the given source IDs.
func (s *Store) Objects(ctx context.Context, job string, t connectors.ObjectType, ids []string) (map[string]store.ObjectState, error) {
	rows, _ := s.pool.Query(ctx, probe(`SELECT `+objectColumns+` FROM objects o`), job, string(t), ids)
	out := make(map[string]store.ObjectState, len(ids))
	_, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		o, err := scanObject(row)
		out[o.SourceID] = o
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("read object states: %w", err)
	}
	return out, nil
}

// Fingerprints returns what fetch compares of the given known objects,
// without decoding the values pushed for them.
func (s *Store) Fingerprints(ctx context.Context, job string, t connectors.ObjectType, ids []string) (map[string]store.Fingerprint, error) {
	rows, _ := s.pool.Query(ctx, probe(`SELECT source_id, source_hash, target_id <> '', active, escrow FROM objects o`), job, string(t), ids)
	out := make(map[string]store.Fingerprint, len(ids))
	_, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		var (
			id     string
			f      store.Fingerprint
			escrow *string
		)
		if err := row.Scan(&id, &f.SourceHash, &f.Linked, &f.Active, &escrow); err != nil {
			return struct{}{}, err
		}
		if escrow != nil {
			f.Escrow = &store.Escrow{}
			if err := json.Unmarshal([]byte(*escrow), f.Escrow); err != nil {
				return struct{}{}, fmt.Errorf("object %s: escrow: %w", id, err)
			}
		}
		out[id] = f
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read object fingerprints: %w", err)
	}
	return out, nil
}

// upsertObjects writes object states from the column arrays objectArrays
// returns, one row per element.
const upsertObjects = `INSERT INTO objects (job, ` + objectColumns + `, escrow_due)
	SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::timestamptz[])
	ON CONFLICT (job, type, source_id) DO UPDATE SET source_hash = excluded.source_hash, target_id = excluded.target_id,
	active = excluded.active, pushed = excluded.pushed, members = excluded.members, refs = excluded.refs, escrow = excluded.escrow,
	escrow_due = excluded.escrow_due, updated_at = excluded.updated_at, operation = excluded.operation`

// objectArrays returns the arguments of upsertObjects for states with
// distinct keys.
func objectArrays(job string, states []store.ObjectState) ([]any, error) {
	n := len(states)
	var (
		types, ids, hashes, targets   = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		active                        = make([]bool, n)
		pushed, members, refs, escrow = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		operation                     = make([]*string, n)
		updated                       = make([]time.Time, n)
		due                           = make([]*time.Time, n)
		now                           = time.Now()
		err                           error
	)
	for i, o := range states {
		types[i], ids[i], hashes[i], targets[i], active[i] = string(o.Type), o.SourceID, o.SourceHash, o.TargetID, o.Active
		if pushed[i], err = marshalIf(o.Pushed, len(o.Pushed) == 0); err != nil {
			return nil, err
		}
		if members[i], err = marshalIf(o.Members, o.Members == nil); err != nil {
			return nil, err
		}
		if refs[i], err = marshalIf(o.References, len(o.References) == 0); err != nil {
			return nil, err
		}
		if escrow[i], err = marshalIf(o.Escrow, o.Escrow == nil); err != nil {
			return nil, err
		}
		if operation[i], err = marshalIf(o.Operation, o.Operation == nil); err != nil {
			return nil, err
		}
		if o.Escrow != nil {
			due[i] = &o.Escrow.RetryAfter
		}
		updated[i] = o.UpdatedAt
		if updated[i].IsZero() {
			updated[i] = now
		}
	}
	return []any{job, types, ids, hashes, targets, active, pushed, members, refs, escrow, updated, operation, due}, nil
}

func objectKey(o store.ObjectState) string { return string(o.Type) + "\x00" + o.SourceID }

// PutObject records one object's state.
func (s *Store) PutObject(ctx context.Context, job string, o store.ObjectState) error {
	args, err := objectArrays(job, []store.ObjectState{o})
	if err != nil {
		return err
	}
	err = s.write(ctx, func(b *pgx.Batch) {
		b.Queue(unsettle, job)
		b.Queue(upsertObjects, args...)
	})
	if err != nil {
		return fmt.Errorf("save state of object %s: %w", o.SourceID, err)
	}
	return nil
}

// unsettle forgets a job's settled cycle, in the batch that writes an
// object state.
const unsettle = `DELETE FROM settled WHERE job = $1`

// SettleCycle records the cycle as the job's settled one.
func (s *Store) SettleCycle(ctx context.Context, c store.Cycle) error {
	err := s.exec(ctx, `INSERT INTO settled (job, cycle) VALUES ($1, $2) ON CONFLICT (job) DO UPDATE SET cycle = excluded.cycle`, c.Job, c.ID)
	if err != nil {
		return fmt.Errorf("settle cycle %s: %w", c.ID, err)
	}
	return nil
}

// SettledCycle returns the job's settled cycle, "" when none.
func (s *Store) SettledCycle(ctx context.Context, job string) (string, error) {
	var c string
	err := s.pool.QueryRow(ctx, `SELECT cycle FROM settled WHERE job = $1`, job).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read settled cycle: %w", err)
	}
	return c, nil
}

// page is how many object states one query of an iteration reads.
const page = 1000

// each calls fn for the objects query selects, in source ID order. It reads
// a page at a time and holds no connection while fn runs: fn may use the
// store, and may change what later pages hold. query ends in a WHERE clause
// on table alias o.
func (s *Store) each(ctx context.Context, fn func(store.ObjectState) error, query string, args ...any) error {
	after, op := "", ">=" // ">=" "" lets the first page include an empty ID
	for {
		rows, _ := s.pool.Query(ctx, fmt.Sprintf(`%s AND o.source_id %s $%d ORDER BY o.source_id LIMIT %d`, query, op, len(args)+1, page), append(args, after)...)
		states, err := pgx.CollectRows(rows, scanObject)
		if err != nil {
			return fmt.Errorf("list object states: %w", err)
		}
		for _, o := range states {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(states) < page {
			return nil
		}
		after, op = states[len(states)-1].SourceID, ">"
	}
}

// Connections calls fn for every linked object of a type.
func (s *Store) Connections(ctx context.Context, job string, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	return s.each(ctx, fn, `SELECT `+objectColumns+` FROM objects o WHERE o.job = $1 AND o.type = $2 AND o.target_id <> ''`, job, string(t))
}

// CountLinked counts the linked objects of a type.
func (s *Store) CountLinked(ctx context.Context, job string, t connectors.ObjectType) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM objects WHERE job = $1 AND type = $2 AND target_id <> ''`, job, string(t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count linked %s objects: %w", t, err)
	}
	return n, nil
}

// LookupTarget finds the object linked to a target ID. It reads every
// object of the type: an index of target IDs would cost every write.
func (s *Store) LookupTarget(ctx context.Context, job string, t connectors.ObjectType, targetID string) (store.ObjectState, bool, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+objectColumns+` FROM objects WHERE job = $1 AND type = $2 AND target_id = $3 ORDER BY source_id LIMIT 1`, job, string(t), targetID)
	o, err := pgx.CollectExactlyOneRow(rows, scanObject)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("look up target object %s: %w", targetID, err)
	}
	return o, true, nil
}

// Stage writes staged items; of items with the same Seq the last wins.
func (s *Store) Stage(ctx context.Context, c store.Cycle, items []store.StagedItem) error {
	items = latest(items, func(it store.StagedItem) int { return it.Seq })
	if len(items) == 0 {
		return nil
	}
	var (
		seqs     = make([]int64, len(items))
		types    = make([]string, len(items))
		objects  = make([]string, len(items))
		outcomes = make([][]byte, len(items))
	)
	for i, it := range items {
		obj, err := store.AppendObjectJSON(nil, it.Object)
		if err != nil {
			return fmt.Errorf("stage object %s: %w", it.Object.ID, err)
		}
		seqs[i], types[i], objects[i], outcomes[i] = int64(it.Seq), string(it.Type), string(obj), it.Outcome
	}
	err := s.exec(ctx, `INSERT INTO staged (job, cycle, seq, type, object, outcome)
		SELECT $1::text, $2::text, * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bytea[])
		ON CONFLICT (job, cycle, seq) DO UPDATE SET type = excluded.type, object = excluded.object, outcome = excluded.outcome`,
		c.Job, c.ID, seqs, types, objects, outcomes)
	if err != nil {
		return fmt.Errorf("stage objects: %w", err)
	}
	return nil
}

// TruncateStage drops items staged after a checkpoint.
func (s *Store) TruncateStage(ctx context.Context, c store.Cycle, after int) error {
	if err := s.exec(ctx, `DELETE FROM staged WHERE job = $1 AND cycle = $2 AND seq > $3`, c.Job, c.ID, after); err != nil {
		return fmt.Errorf("truncate staged objects: %w", err)
	}
	return nil
}

// Staged returns a range of staged items.
func (s *Store) Staged(ctx context.Context, c store.Cycle, from, to int) ([]store.StagedItem, error) {
	rows, _ := s.pool.Query(ctx, `SELECT seq, type, object, outcome FROM staged WHERE job = $1 AND cycle = $2 AND seq BETWEEN $3 AND $4 ORDER BY seq`, c.Job, c.ID, from, to)
	var dec store.ObjectDecoder
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.StagedItem, error) {
		var (
			it  store.StagedItem
			typ string
			obj []byte
		)
		if err := row.Scan(&it.Seq, &typ, &obj, &it.Outcome); err != nil {
			return it, err
		}
		it.Type = connectors.ObjectType(typ)
		attrs, err := dec.DecodeObject(obj, &it.Object)
		if err != nil {
			return it, fmt.Errorf("staged object %d: %w", it.Seq, err)
		}
		it.AttributesJSON = attrs
		return it, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read staged objects: %w", err)
	}
	return items, nil
}

// Record stores outcomes and object states in one transaction. Records
// apply as if in turn: of several for one item or object, the last wins.
func (s *Store) Record(ctx context.Context, c store.Cycle, records []store.Record) error {
	type outcome struct {
		seq int
		b   []byte
	}
	type change struct {
		key    string
		state  *store.ObjectState
		typ    string
		source string
	}
	var (
		outcomes []outcome
		changes  []change
	)
	for _, r := range records {
		if r.Outcome != nil {
			outcomes = append(outcomes, outcome{r.Seq, r.Outcome})
		}
		switch {
		case r.Forget:
			changes = append(changes, change{key: string(r.Type) + "\x00" + r.SourceID, typ: string(r.Type), source: r.SourceID})
		case r.State != nil:
			changes = append(changes, change{key: objectKey(*r.State), state: r.State})
		}
	}
	outcomes = latest(outcomes, func(o outcome) int { return o.seq })
	var (
		seqs          = make([]int64, len(outcomes))
		results       = make([][]byte, len(outcomes))
		forgetTypes   []string
		forgetSources []string
		states        []store.ObjectState
	)
	for i, o := range outcomes {
		seqs[i], results[i] = int64(o.seq), o.b
	}
	for _, ch := range latest(changes, func(ch change) string { return ch.key }) {
		if ch.state != nil {
			states = append(states, *ch.state)
		} else {
			forgetTypes, forgetSources = append(forgetTypes, ch.typ), append(forgetSources, ch.source)
		}
	}
	put, err := objectArrays(c.Job, states)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(b *pgx.Batch) {
		if len(states) > 0 || len(forgetSources) > 0 {
			b.Queue(unsettle, c.Job)
		}
		if len(seqs) > 0 {
			// A batch's items are a Seq range: bounding the scan by it keeps
			// the planner, which may have no statistics yet for a cycle's
			// items, from reading all of them.
			b.Queue(`UPDATE staged SET outcome = u.outcome FROM unnest($3::bigint[], $4::bytea[]) AS u(seq, outcome)
				WHERE staged.job = $1 AND staged.cycle = $2 AND staged.seq BETWEEN $5 AND $6 AND staged.seq = u.seq`,
				c.Job, c.ID, seqs, results, seqs[0], seqs[len(seqs)-1])
		}
		if len(forgetSources) > 0 {
			b.Queue(`DELETE FROM objects o USING unnest($2::text[], $3::text[]) AS f(type, source_id)
				WHERE o.job = $1 AND o.type = f.type AND o.source_id = f.source_id`, c.Job, forgetTypes, forgetSources)
		}
		if len(states) > 0 {
			b.Queue(upsertObjects, put...)
		}
	})
	if err != nil {
		return fmt.Errorf("record outcomes: %w", err)
	}
	return nil
}

// DueEscrows lists escrowed objects whose retry time has come.
func (s *Store) DueEscrows(ctx context.Context, job string, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	return s.each(ctx, fn, `SELECT `+objectColumns+` FROM objects o WHERE o.job = $1 AND o.type = $2 AND o.escrow_due <= $3`, job, string(t), now)
}

// UnseenDueEscrows lists escrowed objects whose retry time has come and
// that a cycle has not marked seen.
func (s *Store) UnseenDueEscrows(ctx context.Context, c store.Cycle, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	marks, err := loadSeen(ctx, s.pool, c, t)
	if err != nil {
		return err
	}
	// DueEscrows lists in source ID order, as marks are asked.
	return s.DueEscrows(ctx, c.Job, t, now, marks.Unseen(fn))
}

// MarkSeen records source IDs read in a cycle, as one run.
func (s *Store) MarkSeen(ctx context.Context, c store.Cycle, t connectors.ObjectType, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.exec(ctx, `INSERT INTO seen_runs (job, cycle, type, ids) VALUES ($1, $2, $3, $4)`, c.Job, c.ID, string(t), store.EncodeSeenRun(ids))
	if err != nil {
		return fmt.Errorf("mark objects seen: %w", err)
	}
	return nil
}

// Unseen lists known objects not read in a cycle: their IDs are listed a
// page at a time, in order, and merged with the marks, and the states of
// those not seen read by ID.
func (s *Store) Unseen(ctx context.Context, c store.Cycle, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	marks, err := loadSeen(ctx, s.pool, c, t)
	if err != nil {
		return err
	}
	return store.EachUnseen(marks, idPage, func(after string, first bool) ([]string, error) {
		op := ">"
		if first {
			op = ">=" // ">=" "" lets the first page include an empty ID
		}
		rows, _ := s.pool.Query(ctx, `SELECT source_id FROM objects WHERE job = $1 AND type = $2 AND source_id `+op+` $3 ORDER BY source_id LIMIT `+strconv.Itoa(idPage),
			c.Job, string(t), after)
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}, func(ids []string) (map[string]store.ObjectState, error) { return s.Objects(ctx, c.Job, t, ids) }, fn)
}

// idPage is how many known IDs Unseen reads at once.
const idPage = 10000

// loadSeen reads a cycle's seen marks of a type: its runs, and the rows
// an earlier version wrote, as one run more.
func loadSeen(ctx context.Context, q querier, c store.Cycle, t connectors.ObjectType) (*store.SeenMarks, error) {
	rows, _ := q.Query(ctx, `SELECT ids FROM seen_runs WHERE job = $1 AND cycle = $2 AND type = $3`, c.Job, c.ID, string(t))
	runs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT source_id FROM seen WHERE job = $1 AND cycle = $2 AND type = $3 ORDER BY source_id`, c.Job, c.ID, string(t))
	earlier, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read seen marks: %w", err)
	}
	if len(earlier) > 0 {
		runs = append(runs, store.EncodeSeenRun(earlier))
	}
	var m store.SeenMarks
	for _, r := range runs {
		if err := m.Add(r); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// EndCycle drops a cycle's staging area, seen marks and target index.
func (s *Store) EndCycle(ctx context.Context, c store.Cycle) error {
	err := s.write(ctx, func(b *pgx.Batch) {
		for _, table := range []string{"staged", "seen", "seen_runs", "target_objects", "target_keys", "target_indexes"} {
			b.Queue(`DELETE FROM `+table+` WHERE job = $1 AND cycle = $2`, c.Job, c.ID)
		}
	})
	if err != nil {
		return fmt.Errorf("end cycle %s: %w", c.ID, err)
	}
	return nil
}

// Watermark returns an object type's watermark.
func (s *Store) Watermark(ctx context.Context, job string, t connectors.ObjectType) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM watermarks WHERE job = $1 AND type = $2`, job, string(t)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read watermark: %w", err)
	}
	return v, nil
}

// SetWatermark stores an object type's watermark.
func (s *Store) SetWatermark(ctx context.Context, job string, t connectors.ObjectType, watermark string) error {
	err := s.exec(ctx, `INSERT INTO watermarks (job, type, value) VALUES ($1, $2, $3)
		ON CONFLICT (job, type) DO UPDATE SET value = excluded.value`, job, string(t), watermark)
	if err != nil {
		return fmt.Errorf("save watermark: %w", err)
	}
	return nil
}

// Reset clears the selected state of a job.
func (s *Store) Reset(ctx context.Context, job string, scope store.ResetScope) error {
	err := s.write(ctx, func(b *pgx.Batch) {
		b.Queue(unsettle, job)
		if scope.Watermark {
			b.Queue(`DELETE FROM watermarks WHERE job = $1`, job)
		}
		if scope.Escrows {
			b.Queue(`UPDATE objects SET escrow = NULL, escrow_due = NULL WHERE job = $1 AND escrow IS NOT NULL`, job)
		}
		if scope.ConnectorDataStore {
			for _, table := range []string{"objects", "source_groups", "source_members", "pending"} {
				b.Queue(`DELETE FROM `+table+` WHERE job = $1`, job)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("reset job %s: %w", job, err)
	}
	return nil
}
