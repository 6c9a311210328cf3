// Package sqlite is the embedded state store: one SQLite file, through the
// pure-Go modernc.org/sqlite driver, so the service needs no database server.
// Several workers on one machine may share the file; workers on several
// machines need the PostgreSQL store.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"

	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// schema creates the tables. Those whose rows are large (object states,
// staged objects, outcomes) are rowid tables with a unique index on their
// key: a WITHOUT ROWID table keeps rows whole in its key's B-tree, where
// a row over a quarter of a page (4 KB; 1 KB in files of earlier
// versions) spills to an overflow page of its own, and every insert moves
// large rows between pages. Tables of small rows are WITHOUT ROWID. The
// indexes of large-row tables are made by indexes, once migrate has
// converted the tables of earlier versions.
const schema = `
CREATE TABLE IF NOT EXISTS objects (
	job TEXT NOT NULL,
	type TEXT NOT NULL,
	source_id TEXT NOT NULL,
	source_hash TEXT NOT NULL DEFAULT '',
	target_id TEXT NOT NULL DEFAULT '',
	active INTEGER NOT NULL DEFAULT 0,
	pushed TEXT,
	members TEXT,
	refs TEXT,
	escrow TEXT,
	escrow_due INTEGER,
	updated_at INTEGER NOT NULL,
	operation TEXT
);
CREATE TABLE IF NOT EXISTS staged (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	seq INTEGER NOT NULL,
	type TEXT NOT NULL,
	object TEXT NOT NULL,
	outcome BLOB
);
-- outcomes holds what staged items came to, apart from the items: written
-- into its item's row, an outcome would grow the row in place and split
-- its page, where here outcomes are appended in Seq order. staged.outcome
-- is read still, for cycles staged by earlier versions.
CREATE TABLE IF NOT EXISTS outcomes (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	seq INTEGER NOT NULL,
	outcome BLOB NOT NULL
);
-- seen held one row per ID marked seen; it is read still, for cycles
-- begun by earlier versions. Marks are written to seen_runs (see seen.go).
CREATE TABLE IF NOT EXISTS seen (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	type TEXT NOT NULL,
	source_id TEXT NOT NULL,
	PRIMARY KEY (job, cycle, type, source_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_runs (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	type TEXT NOT NULL,
	ids BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_runs_cycle ON seen_runs (job, cycle, type);
CREATE TABLE IF NOT EXISTS source_groups (
	job TEXT NOT NULL,
	group_id TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	hash TEXT NOT NULL DEFAULT '',
	-- folded is the name lower-cased in Go: SQLite's lower() folds ASCII only.
	folded TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (job, group_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS source_members (
	job TEXT NOT NULL,
	group_id TEXT NOT NULL,
	member_id TEXT NOT NULL,
	PRIMARY KEY (job, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS source_members_member ON source_members (job, member_id);
CREATE TABLE IF NOT EXISTS pending (
	job TEXT NOT NULL,
	work TEXT NOT NULL,
	type TEXT NOT NULL,
	source_id TEXT NOT NULL,
	PRIMARY KEY (job, work, type, source_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS target_objects (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	type TEXT NOT NULL,
	target_id TEXT NOT NULL,
	object TEXT NOT NULL,
	PRIMARY KEY (job, cycle, type, target_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS target_keys (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	type TEXT NOT NULL,
	attribute TEXT NOT NULL,
	value TEXT NOT NULL,
	target_id TEXT NOT NULL,
	PRIMARY KEY (job, cycle, type, attribute, value, target_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS target_indexes (
	job TEXT NOT NULL,
	cycle TEXT NOT NULL,
	type TEXT NOT NULL,
	objects INTEGER NOT NULL,
	PRIMARY KEY (job, cycle, type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settled (
	job TEXT NOT NULL PRIMARY KEY,
	cycle TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watermarks (
	job TEXT NOT NULL,
	type TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (job, type)
) WITHOUT ROWID;
`

const indexes = `
CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects (job, type, source_id);
CREATE INDEX IF NOT EXISTS objects_escrowed ON objects (job, type, source_id, escrow_due) WHERE escrow_due IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS staged_key ON staged (job, cycle, seq);
CREATE UNIQUE INDEX IF NOT EXISTS outcomes_key ON outcomes (job, cycle, seq);
`

// rowidTables are the tables of large rows, with the columns they hold.
var rowidTables = []struct{ name, columns string }{
	{"objects", "job, type, source_id, source_hash, target_id, active, pushed, members, refs, escrow, escrow_due, updated_at, operation"},
	{"staged", "job, cycle, seq, type, object, outcome"},
	{"outcomes", "job, cycle, seq, outcome"},
}

// Store is the SQLite state store.
type Store struct {
	// db reads; w writes, through its one connection.
	db, w *sql.DB
	// prepared holds the statements that stage items and record what they
	// came to, each compiled once per connection rather than at every call.
	prepared statements
	// group commits the records written at the same time together.
	group groupCommit
}

// statements caches prepared statements by their text.
type statements struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepare prepares queries on db, before any transaction holds the
// writer's one connection.
func (p *statements) prepare(db *sql.DB, queries []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m = make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := db.Prepare(q)
		if err != nil {
			return err
		}
		p.m[q] = st
	}
	return nil
}

// in returns the statement of query for use in tx: the one prepared, or
// one prepared for tx alone.
func (p *statements) in(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	st, ok := p.m[query]
	p.mu.Unlock()
	if !ok {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}

// batchQueries are the statements that stage items and record what they
// came to, in each of rowSizes.
func batchQueries() []string {
	var qs []string
	for _, n := range rowSizes {
		qs = append(qs, stageRows(n), clearOutcomeRows(n), outcomeRows(n), upsertObjectRows(n))
	}
	return qs
}

// close closes the cached statements.
func (p *statements) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.m {
		st.Close()
	}
	p.m = nil
}

var _ store.Store = (*Store)(nil)

// pageSize is the page size of a new state file: 16 KiB, not SQLite's 4
// KiB. Every page a commit changes is one more write to the WAL and, at
// the checkpoint, to the file: an object recorded takes a quarter of the
// writes and reads, in pages four times the size.
const pageSize = 16384

// Open opens (creating if needed) the store in the file at path. Writes
// go through one connection: SQLite drops a connection's page cache
// whenever another connection has written, so the one writer keeps the
// pages every write walks from one write to the next. SQLite runs one
// write at a time anyway; writers queue rather than poll the file's lock.
// Reads have connections of their own.
func Open(path string) (*Store, error) {
	open := func(conns int, pragmas ...string) (*sql.DB, error) {
		q := url.Values{}
		// A statement that writes many rows keeps a journal to undo itself
		// should it fail midway; past 64 KiB, SQLite writes that journal
		// to a temporary file unless temporary storage is memory.
		for _, p := range append(pragmas, "synchronous(NORMAL)", "busy_timeout(30000)", "foreign_keys(ON)", "temp_store(MEMORY)") {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open state store %s: %w", path, err)
		}
		db.SetMaxOpenConns(conns)
		return db, nil
	}
	w, err := open(1)
	if err != nil {
		return nil, err
	}
	// The writer's one connection is kept open, with its cache.
	w.SetConnMaxIdleTime(0)
	w.SetMaxIdleConns(1)
	if err := setUpWriter(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("create state store schema in %s: %w", path, err)
	}
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("upgrade state store schema in %s: %w", path, err)
	}
	if _, err := w.Exec(indexes); err != nil {
		w.Close()
		return nil, fmt.Errorf("create state store indexes in %s: %w", path, err)
	}
	db, err := open(8, "journal_mode(WAL)")
	if err != nil {
		w.Close()
		return nil, err
	}
	st := &Store{db: db, w: w}
	if err := st.prepared.prepare(w, batchQueries()); err != nil {
		st.Close()
		return nil, fmt.Errorf("prepare state store statements in %s: %w", path, err)
	}
	return st, nil
}

// setUpWriter gives a new file its page size before it turns to WAL,
// after which the size is fixed (a file of an earlier version keeps its
// own), and has the WAL copied into the file every 40 MB or so, not
// SQLite's 1,000 pages: a page that many commits change in between, such
// as the last of a table that grows, is copied once.
func setUpWriter(w *sql.DB) error {
	if _, err := w.Exec(`PRAGMA page_size = ` + strconv.Itoa(pageSize) + `; PRAGMA journal_mode = WAL`); err != nil {
		return err
	}
	var size int
	if err := w.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		return err
	}
	_, err := w.Exec(`PRAGMA wal_autocheckpoint = ` + strconv.Itoa(40<<20/size))
	return err
}

// migrate brings files created by earlier versions up to date: it adds
// the columns they lack (filling folded group names), drops the index of
// target IDs, which every recorded object paid for in random page writes
// and no hot path reads, and the index of escrows by due time, which
// listings in source ID order no longer read, indexes group names by
// their folded form, and makes the large-row tables rowid tables.
func migrate(db *sql.DB) error {
	var n int
	for _, col := range []string{"refs", "operation"} {
		if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('objects') WHERE name = ?`, col).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := db.Exec(`ALTER TABLE objects ADD COLUMN ` + col + ` TEXT`); err != nil {
				return err
			}
		}
	}
	if _, err := db.Exec(`DROP INDEX IF EXISTS objects_target; DROP INDEX IF EXISTS source_groups_name; DROP INDEX IF EXISTS objects_escrow`); err != nil {
		return err
	}
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('source_groups') WHERE name = 'folded'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if err := addFoldedNames(db); err != nil {
			return err
		}
	}
	if _, err := db.Exec(`CREATE INDEX IF NOT EXISTS source_groups_folded ON source_groups (job, folded)`); err != nil {
		return err
	}
	return toRowidTables(db)
}

// toRowidTables converts the large-row tables of a file from an earlier
// version, WITHOUT ROWID then, to rowid tables, keeping their rows, in
// one transaction: a worker that opens the file meanwhile waits, then
// finds them converted. Their indexes are made afterwards.
func toRowidTables(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range rowidTables {
		var ddl string
		if err := tx.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, t.name).Scan(&ddl); err != nil {
			return err
		}
		if !strings.Contains(strings.ToUpper(ddl), "WITHOUT ROWID") {
			continue
		}
		i := strings.Index(schema, "CREATE TABLE IF NOT EXISTS "+t.name+" (")
		create := schema[i : i+strings.Index(schema[i:], ";")]
		// Renamed, the old table keeps its indexes' names until it is
		// dropped, before the new table's indexes are made.
		for _, q := range []string{
			`ALTER TABLE ` + t.name + ` RENAME TO ` + t.name + `_old`,
			create,
			`INSERT INTO ` + t.name + ` (` + t.columns + `) SELECT ` + t.columns + ` FROM ` + t.name + `_old`,
			`DROP TABLE ` + t.name + `_old`,
		} {
			if _, err := tx.Exec(q); err != nil {
				return fmt.Errorf("convert table %s: %w", t.name, err)
			}
		}
	}
	return tx.Commit()
}

// addFoldedNames adds the folded column to a file from an earlier version
// and fills it, in one transaction.
func addFoldedNames(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`ALTER TABLE source_groups ADD COLUMN folded TEXT NOT NULL DEFAULT ''`); err != nil {
		return err
	}
	rows, err := tx.Query(`SELECT job, group_id, name FROM source_groups`)
	if err != nil {
		return err
	}
	var groups [][3]string
	for rows.Next() {
		var g [3]string
		if err := rows.Scan(&g[0], &g[1], &g[2]); err != nil {
			rows.Close()
			return err
		}
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range groups {
		if _, err := tx.Exec(`UPDATE source_groups SET folded = ? WHERE job = ? AND group_id = ?`, strings.ToLower(g[2]), g[0], g[1]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error {
	s.prepared.close()
	return errors.Join(s.db.Close(), s.w.Close())
}

const objectColumns = `type, source_id, source_hash, target_id, active, pushed, members, refs, escrow, updated_at, operation`

// scanObject reads a row of objectColumns; dec decodes the values pushed,
// which every state holds, and shares their names between rows.
func scanObject(sc interface{ Scan(...any) error }, dec *store.ObjectDecoder) (store.ObjectState, error) {
	var (
		o                                        store.ObjectState
		typ                                      string
		active                                   int
		pushed, members, refs, escrow, operation sql.NullString
		updated                                  int64
	)
	if err := sc.Scan(&typ, &o.SourceID, &o.SourceHash, &o.TargetID, &active, &pushed, &members, &refs, &escrow, &updated, &operation); err != nil {
		return o, err
	}
	o.Type = connectors.ObjectType(typ)
	o.Active = active != 0
	o.UpdatedAt = time.UnixMilli(updated).UTC()
	if pushed.Valid && pushed.String != "" {
		if err := dec.DecodeAttributes([]byte(pushed.String), &o.Pushed); err != nil {
			return o, fmt.Errorf("object %s: pushed values: %w", o.SourceID, err)
		}
	}
	if err := unmarshalIf(members, &o.Members); err != nil {
		return o, fmt.Errorf("object %s: members: %w", o.SourceID, err)
	}
	if err := unmarshalIf(refs, &o.References); err != nil {
		return o, fmt.Errorf("object %s: references: %w", o.SourceID, err)
	}
	if escrow.Valid {
		o.Escrow = &store.Escrow{}
		if err := json.Unmarshal([]byte(escrow.String), o.Escrow); err != nil {
			return o, fmt.Errorf("object %s: escrow: %w", o.SourceID, err)
		}
	}
	if operation.Valid {
		o.Operation = &store.Operation{}
		if err := json.Unmarshal([]byte(operation.String), o.Operation); err != nil {
			return o, fmt.Errorf("object %s: pending operation: %w", o.SourceID, err)
		}
	}
	return o, nil
}

func unmarshalIf(s sql.NullString, v any) error {
	if !s.Valid || s.String == "" {
		return nil
	}
	return json.Unmarshal([]byte(s.String), v)
}

// encodings are buffers values are encoded in, then copied out.
var encodings = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putEncoding returns a buffer to encodings, unless an unusually large
// value grew it.
func putEncoding(buf *[]byte) {
	if cap(*buf) <= 64<<10 {
		encodings.Put(buf)
	}
}

// marshalIf is v's encoding as a column value, or NULL when empty.
func marshalIf(v any, empty bool) (any, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Objects returns the known states of the given source IDs.
func (s *Store) Objects(ctx context.Context, job string, t connectors.ObjectType, ids []string) (map[string]store.ObjectState, error) {
	if len(ids) >= minRangeRead {
		held, ok, err := s.heldAmong(ctx, job, t, ids)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = held
		}
	}
	out := make(map[string]store.ObjectState, len(ids))
	var dec store.ObjectDecoder
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, 0, len(part)+2)
		args = append(args, job, string(t))
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE job = ? AND type = ? AND source_id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read object states: %w", err)
		}
		for rows.Next() {
			o, err := scanObject(rows, &dec)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[o.SourceID] = o
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// heldAmong returns which of ids the store has an object of, read from
// the key index over their range, or false when that range holds many
// more objects than ids. A batch of an initial cycle then looks up none
// of its objects, which are all new, where a lookup each cost it more
// than the rest of its reads; a batch whose range is mostly other
// objects, such as the changed few of an incremental cycle, looks them
// up as before, after a short read of the index.
func (s *Store) heldAmong(ctx context.Context, job string, t connectors.ObjectType, ids []string) ([]string, bool, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	limit := rangeLimit(len(ids))
	rows, err := s.db.QueryContext(ctx, `SELECT source_id FROM objects WHERE job = ? AND type = ? AND source_id BETWEEN ? AND ? LIMIT ?`,
		job, string(t), sorted[0], sorted[len(sorted)-1], limit)
	if err != nil {
		return nil, false, fmt.Errorf("read object states: %w", err)
	}
	var held []string
	read := 0
	for rows.Next() {
		var id sql.RawBytes
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("read object states: %w", err)
		}
		read++
		if i, ok := slices.BinarySearchFunc(sorted, id, func(s string, id sql.RawBytes) int { return strings.Compare(s, string(id)) }); ok {
			held = append(held, sorted[i])
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, false, fmt.Errorf("read object states: %w", err)
	}
	return held, read < limit, nil
}

// Fingerprints returns what fetch compares of the given known objects,
// without decoding the values pushed for them. A page of IDs in order (a
// snapshot exported sorted by its key) is read in one pass over its key
// range rather than looked up ID by ID; a range that holds many more
// objects than the page is cut short and the rest looked up. A few IDs,
// such as the changed rows of a page, are looked up: their range is
// mostly other objects.
func (s *Store) Fingerprints(ctx context.Context, job string, t connectors.ObjectType, ids []string) (map[string]store.Fingerprint, error) {
	out := make(map[string]store.Fingerprint, len(ids))
	rest := ids
	if len(ids) >= minRangeRead && slices.IsSorted(ids) {
		limit := rangeLimit(len(ids))
		rows, err := s.db.QueryContext(ctx, `SELECT `+fingerprintColumns+` FROM objects WHERE job = ? AND type = ? AND source_id BETWEEN ? AND ? ORDER BY source_id LIMIT ?`,
			job, string(t), ids[0], ids[len(ids)-1], limit)
		if err != nil {
			return nil, fmt.Errorf("read object fingerprints: %w", err)
		}
		read, last := 0, ""
		err = scanFingerprints(rows, func(id string, f store.Fingerprint) {
			read, last = read+1, id
			if _, ok := slices.BinarySearch(ids, id); ok {
				out[id] = f
			}
		})
		if err != nil || read < limit {
			return out, err
		}
		after, _ := slices.BinarySearch(ids, last)
		for after < len(ids) && ids[after] <= last {
			after++
		}
		rest = ids[after:]
	}
	err := inList(rest, func(ph string, args []any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT `+fingerprintColumns+` FROM objects WHERE job = ? AND type = ? AND source_id IN (`+ph+`)`,
			append([]any{job, string(t)}, args...)...)
		if err != nil {
			return fmt.Errorf("read object fingerprints: %w", err)
		}
		return scanFingerprints(rows, func(id string, f store.Fingerprint) { out[id] = f })
	})
	return out, err
}

// minRangeRead is the fewest IDs whose key range Objects and Fingerprints
// read.
const minRangeRead = 64

// rangeLimit is how many objects a read of n IDs' key range takes before
// it gives up on the range as holding mostly other objects.
func rangeLimit(n int) int { return 2*n + 16 }

const fingerprintColumns = `source_id, source_hash, target_id <> '', active, escrow`

// scanFingerprints calls fn for each row of fingerprintColumns, and closes rows.
func scanFingerprints(rows *sql.Rows, fn func(id string, f store.Fingerprint)) error {
	for rows.Next() {
		var (
			id     string
			f      store.Fingerprint
			escrow sql.NullString
		)
		if err := rows.Scan(&id, &f.SourceHash, &f.Linked, &f.Active, &escrow); err != nil {
			rows.Close()
			return err
		}
		if escrow.Valid {
			f.Escrow = &store.Escrow{}
			if err := json.Unmarshal([]byte(escrow.String), f.Escrow); err != nil {
				rows.Close()
				return fmt.Errorf("object %s: escrow: %w", id, err)
			}
		}
		fn(id, f)
	}
	return closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// upsertObject writes one object's state; its arguments come from appendObjectArgs.
const upsertObject = `INSERT INTO objects (job, ` + objectColumns + `, escrow_due) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)` + onObjectConflict

const onObjectConflict = `
	ON CONFLICT (job, type, source_id) DO UPDATE SET source_hash = excluded.source_hash, target_id = excluded.target_id,
	active = excluded.active, pushed = excluded.pushed, members = excluded.members, refs = excluded.refs, escrow = excluded.escrow,
	escrow_due = excluded.escrow_due, updated_at = excluded.updated_at, operation = excluded.operation`

// objectArgCount is how many arguments appendObjectArgs appends: one row's.
const objectArgCount = 13

// stageRows stages n items of a cycle.
func stageRows(n int) string {
	return `INSERT OR REPLACE INTO staged (job, cycle, seq, type, object)
		SELECT ?, ?, column1, column2, column3 FROM (VALUES (?,?,?)` + strings.Repeat(",(?,?,?)", n-1) + `)`
}

// clearOutcomeRows clears the outcomes of n items of a cycle.
func clearOutcomeRows(n int) string {
	return `DELETE FROM outcomes WHERE job = ? AND cycle = ? AND seq IN (?` + strings.Repeat(",?", n-1) + `)`
}

// outcomeRows records the outcomes of n items of a cycle.
func outcomeRows(n int) string {
	return `INSERT OR REPLACE INTO outcomes (job, cycle, seq, outcome)
		SELECT ?, ?, column1, column2 FROM (VALUES (?,?)` + strings.Repeat(",(?,?)", n-1) + `)`
}

// upsertObjectRows is upsertObject for n rows.
func upsertObjectRows(n int) string {
	row := "(?,?,?,?,?,?,?,?,?,?,?,?,?)"
	return `INSERT INTO objects (job, ` + objectColumns + `, escrow_due) VALUES ` + row + strings.Repeat(","+row, n-1) + onObjectConflict
}

// appendObjectArgs appends one row's arguments for upsertObjectRows. A
// NULL is a nil and a text a plain string: database/sql passes those
// through, where a sql.NullString is boxed, then asked for its value.
func appendObjectArgs(args []any, job any, o store.ObjectState) (_ []any, err error) {
	// Pushed values are written for every object pushed: they are
	// encoded without reflection, as json.Marshal would.
	buf := encodings.Get().(*[]byte)
	defer putEncoding(buf)
	var pushed, operation any
	if len(o.Pushed) > 0 {
		if *buf, err = store.AppendJSON((*buf)[:0], o.Pushed); err != nil {
			return nil, err
		}
		pushed = string(*buf)
	}
	// So is the operation of every create, before its push.
	if o.Operation != nil {
		if *buf, err = store.AppendOperationJSON((*buf)[:0], o.Operation); err != nil {
			return nil, err
		}
		operation = string(*buf)
	}
	members, err := marshalIf(o.Members, o.Members == nil)
	if err != nil {
		return nil, err
	}
	refs, err := marshalIf(o.References, len(o.References) == 0)
	if err != nil {
		return nil, err
	}
	escrow, err := marshalIf(o.Escrow, o.Escrow == nil)
	if err != nil {
		return nil, err
	}
	var due any
	if o.Escrow != nil {
		due = o.Escrow.RetryAfter.UnixMilli()
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = time.Now()
	}
	return append(args, job, string(o.Type), o.SourceID, o.SourceHash, o.TargetID, boolInt(o.Active), pushed, members, refs, escrow, o.UpdatedAt.UnixMilli(), operation, due), nil
}

func putObject(ctx context.Context, ex execer, job string, o store.ObjectState) error {
	args, err := appendObjectArgs(nil, job, o)
	if err != nil {
		return err
	}
	if _, err := ex.ExecContext(ctx, upsertObject, args...); err != nil {
		return fmt.Errorf("save state of object %s: %w", o.SourceID, err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PutObject records one object's state.
func (s *Store) PutObject(ctx context.Context, job string, o store.ObjectState) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := unsettle(ctx, tx, job); err != nil {
			return err
		}
		return putObject(ctx, tx, job, o)
	})
}

// unsettle forgets the job's settled cycle: an object state is written.
func unsettle(ctx context.Context, tx *sql.Tx, job string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM settled WHERE job = ?`, job); err != nil {
		return fmt.Errorf("save object states: %w", err)
	}
	return nil
}

// SettleCycle records the cycle as the job's settled one.
func (s *Store) SettleCycle(ctx context.Context, c store.Cycle) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settled (job, cycle) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET cycle = excluded.cycle`, c.Job, c.ID)
	return err
}

// SettledCycle returns the job's settled cycle, "" when none.
func (s *Store) SettledCycle(ctx context.Context, job string) (string, error) {
	var c string
	err := s.db.QueryRowContext(ctx, `SELECT cycle FROM settled WHERE job = ?`, job).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, err
}

// Connections calls fn for every linked object of a type.
func (s *Store) Connections(ctx context.Context, job string, t connectors.ObjectType, fn func(store.ObjectState) error) error {
	return s.each(ctx, fn, `SELECT `+objectColumns+` FROM objects o WHERE o.job = ? AND o.type = ? AND o.target_id <> ''`, job, string(t))
}

// CountLinked counts the linked objects of a type.
func (s *Store) CountLinked(ctx context.Context, job string, t connectors.ObjectType) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM objects WHERE job = ? AND type = ? AND target_id <> ''`, job, string(t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count linked %s objects: %w", t, err)
	}
	return n, nil
}

// objectPage is how many object states one query of an iteration reads.
const objectPage = 1000

// each calls fn for the objects query selects, in source ID order. It reads
// a page at a time and holds no connection while fn runs: fn may write to
// the store, which SQLite would make wait on an open read, and a listing
// of every object holds one page of them, not all. query ends in a WHERE
// clause on table alias o.
func (s *Store) each(ctx context.Context, fn func(store.ObjectState) error, query string, args ...any) error {
	after, op := "", ">=" // ">=" "" lets the first page include an empty ID
	states := make([]store.ObjectState, 0, objectPage)
	var dec store.ObjectDecoder
	for {
		rows, err := s.db.QueryContext(ctx, query+` AND o.source_id `+op+` ? ORDER BY o.source_id LIMIT `+strconv.Itoa(objectPage), append(args, after)...)
		if err != nil {
			return fmt.Errorf("list object states: %w", err)
		}
		states = states[:0]
		for rows.Next() {
			o, err := scanObject(rows, &dec)
			if err != nil {
				rows.Close()
				return err
			}
			states = append(states, o)
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("list object states: %w", err)
		}
		for _, o := range states {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(states) < objectPage {
			return nil
		}
		after, op = states[len(states)-1].SourceID, ">"
	}
}

// LookupTarget finds the object linked to a target ID. It reads every
// object of the type: target IDs are not indexed.
func (s *Store) LookupTarget(ctx context.Context, job string, t connectors.ObjectType, targetID string) (store.ObjectState, bool, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE job = ? AND type = ? AND target_id = ?`, job, string(t), targetID)
	o, err := scanObject(row, &store.ObjectDecoder{})
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	return o, err == nil, err
}

// Stage writes staged items; an item replaced takes its own outcome, or
// none. Items are written, and the outcomes of those without one cleared,
// many rows per statement: an initial cycle stages every object.
func (s *Store) Stage(ctx context.Context, c store.Cycle, items []store.StagedItem) error {
	buf := encodings.Get().(*[]byte)
	defer putEncoding(buf)
	return s.tx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, rowSizes[0]*3+2)
		err := inRows(len(items), func(start, n int) error {
			part := items[start : start+n]
			args = append(args[:0], c.Job, c.ID)
			for _, it := range part {
				var err error
				if *buf, err = store.AppendObjectJSON((*buf)[:0], it.Object); err != nil {
					return fmt.Errorf("stage object %s: %w", it.Object.ID, err)
				}
				args = append(args, it.Seq, string(it.Type), string(*buf))
			}
			st, err := s.prepared.in(ctx, tx, stageRows(n))
			if err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
			if err != nil {
				return fmt.Errorf("stage objects %s to %s: %w", part[0].Object.ID, part[n-1].Object.ID, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		var done []store.Record
		var fresh []int
		for _, it := range items {
			if it.Outcome != nil {
				done = append(done, store.Record{Seq: it.Seq, Outcome: it.Outcome})
			} else {
				fresh = append(fresh, it.Seq)
			}
		}
		err = inRows(len(fresh), func(start, n int) error {
			args = append(args[:0], c.Job, c.ID)
			for _, seq := range fresh[start : start+n] {
				args = append(args, seq)
			}
			st, err := s.prepared.in(ctx, tx, clearOutcomeRows(n))
			if err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
			if err != nil {
				return fmt.Errorf("clear the outcomes of staged objects: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return s.recordOutcomes(ctx, tx, c, done)
	})
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin state store transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// TruncateStage drops items staged after a checkpoint, and their outcomes.
func (s *Store) TruncateStage(ctx context.Context, c store.Cycle, after int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"staged", "outcomes"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE job = ? AND cycle = ? AND seq > ?`, c.Job, c.ID, after); err != nil {
				return err
			}
		}
		return nil
	})
}

// Staged returns a range of staged items. Their outcomes are read apart,
// in one pass over the range, and matched by Seq: joined, each item would
// seek its outcome in the index, though in an initial cycle few have one.
func (s *Store) Staged(ctx context.Context, c store.Cycle, from, to int) ([]store.StagedItem, error) {
	outcomes, err := s.outcomes(ctx, c, from, to)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, type, object, outcome FROM staged
		WHERE job = ? AND cycle = ? AND seq BETWEEN ? AND ? ORDER BY seq`, c.Job, c.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("read staged objects: %w", err)
	}
	var (
		out = make([]store.StagedItem, 0, min(max(to-from+1, 0), 1000))
		dec store.ObjectDecoder
	)
	for rows.Next() {
		var (
			it  store.StagedItem
			typ string
			// The object is decoded before the next row, so it is read
			// in place rather than copied twice.
			obj sql.RawBytes
		)
		if err := rows.Scan(&it.Seq, &typ, &obj, &it.Outcome); err != nil {
			rows.Close()
			return nil, err
		}
		for len(outcomes) > 0 && outcomes[0].seq < it.Seq {
			outcomes = outcomes[1:]
		}
		if len(outcomes) > 0 && outcomes[0].seq == it.Seq {
			it.Outcome = outcomes[0].outcome
		}
		it.Type = connectors.ObjectType(typ)
		attrs, err := dec.DecodeObject(obj, &it.Object)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("staged object %d: %w", it.Seq, err)
		}
		it.AttributesJSON = attrs
		out = append(out, it)
	}
	return out, closeRows(rows)
}

// seqOutcome is a staged item's outcome, by the item's Seq.
type seqOutcome struct {
	seq     int
	outcome []byte
}

// outcomes returns the outcomes recorded for a range of staged items, in
// Seq order.
func (s *Store) outcomes(ctx context.Context, c store.Cycle, from, to int) ([]seqOutcome, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, outcome FROM outcomes WHERE job = ? AND cycle = ? AND seq BETWEEN ? AND ? ORDER BY seq`, c.Job, c.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("read outcomes of staged objects: %w", err)
	}
	var out []seqOutcome
	for rows.Next() {
		var o seqOutcome
		if err := rows.Scan(&o.seq, &o.outcome); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, o)
	}
	return out, closeRows(rows)
}

// Record stores outcomes and object states in one transaction, many rows
// per statement, with statements prepared once.
func (s *Store) Record(ctx context.Context, c store.Cycle, records []store.Record) error {
	return s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.recordOutcomes(ctx, tx, c, records); err != nil {
			return err
		}
		if store.WritesStates(records) {
			if err := unsettle(ctx, tx, c.Job); err != nil {
				return err
			}
		}
		// States are written many rows per statement, in order: a forget
		// first writes the states before it, so the last record of an
		// object wins as if each were written alone.
		var rows []*store.ObjectState
		flush := func() error {
			err := s.upsertObjects(ctx, tx, c.Job, rows)
			rows = rows[:0]
			return err
		}
		for _, r := range records {
			switch {
			case r.Forget:
				if err := flush(); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE job = ? AND type = ? AND source_id = ?`, c.Job, string(r.Type), r.SourceID); err != nil {
					return fmt.Errorf("forget object %s: %w", r.SourceID, err)
				}
			case r.State != nil:
				rows = append(rows, r.State)
			}
		}
		return flush()
	})
}

// rowSizes are the row counts of the multi-row statements that record
// items, largest first: any number of rows goes in statements of these
// sizes, so a few prepared statements serve every flush. The largest
// stays far below SQLite's limit of 32,766 parameters.
var rowSizes = []int{64, 8, 1}

// inRows calls fn for consecutive parts of n rows, each of one of
// rowSizes, with the part's first row and size.
func inRows(n int, fn func(start, rows int) error) error {
	start := 0
	for _, size := range rowSizes {
		for ; n-start >= size; start += size {
			if err := fn(start, size); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordOutcomes writes the staged items' outcomes, many per statement.
func (s *Store) recordOutcomes(ctx context.Context, tx *sql.Tx, c store.Cycle, records []store.Record) error {
	done := make([]store.Record, 0, len(records))
	for _, r := range records {
		if r.Outcome != nil {
			done = append(done, r)
		}
	}
	args := make([]any, 0, rowSizes[0]*2+2)
	return inRows(len(done), func(start, n int) error {
		st, err := s.prepared.in(ctx, tx, outcomeRows(n))
		if err != nil {
			return fmt.Errorf("record outcomes: %w", err)
		}
		args = append(args[:0], c.Job, c.ID)
		for _, r := range done[start : start+n] {
			args = append(args, r.Seq, r.Outcome)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("record outcomes: %w", err)
		}
		return nil
	})
}

// upsertObjects writes object states, many rows per statement; of two rows
// for one object the later wins.
func (s *Store) upsertObjects(ctx context.Context, tx *sql.Tx, job string, states []*store.ObjectState) error {
	args := make([]any, 0, rowSizes[0]*objectArgCount)
	var jobArg any = job // boxed once, not once a row
	return inRows(len(states), func(start, n int) error {
		args = args[:0]
		var err error
		for _, o := range states[start : start+n] {
			if args, err = appendObjectArgs(args, jobArg, *o); err != nil {
				return err
			}
		}
		st, err := s.prepared.in(ctx, tx, upsertObjectRows(n))
		if err != nil {
			return fmt.Errorf("save object states: %w", err)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("save object states: %w", err)
		}
		return nil
	})
}

// DueEscrows lists escrowed objects whose retry time has come. The
// escrow listings name their index: with no statistics, SQLite would walk
// every object of the type in key order to find the few escrowed.
func (s *Store) DueEscrows(ctx context.Context, job string, t connectors.ObjectType, now time.Time, fn func(store.ObjectState) error) error {
	return s.each(ctx, fn, `SELECT `+objectColumns+` FROM objects o INDEXED BY objects_escrowed WHERE o.job = ? AND o.type = ? AND o.escrow_due IS NOT NULL AND o.escrow_due <= ?`, job, string(t), now.UnixMilli())
}

// EndCycle drops a cycle's staging area, seen marks and target index. A
// table that holds rows of this cycle only, as it does unless jobs
// share the file, is emptied whole: SQLite then frees its pages rather
// than delete its rows one by one, which rewrites every page they are on.
func (s *Store) EndCycle(ctx context.Context, c store.Cycle) error {
	if err := s.endCycle(ctx, c); err != nil {
		return err
	}
	// Between cycles, the WAL is copied back into the database, so that
	// the next cycle starts with a short log rather than pays for a copy
	// of up to 10,000 pages at one of its first commits. Readers are not
	// waited for: what they still hold, a later commit copies.
	_, _ = s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return nil
}

func (s *Store) endCycle(ctx context.Context, c store.Cycle) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"staged", "outcomes", "seen", "seen_runs", "target_objects", "target_keys", "target_indexes"} {
			only, err := onlyCycle(ctx, tx, table, c)
			if err != nil {
				return err
			}
			if only {
				_, err = tx.ExecContext(ctx, `DELETE FROM `+table)
			} else {
				_, err = tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE job = ? AND cycle = ?`, c.Job, c.ID)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// onlyCycle reports whether a table keyed by job and cycle holds rows of
// cycle c only, or none: its first and last keys are c's.
func onlyCycle(ctx context.Context, tx *sql.Tx, table string, c store.Cycle) (bool, error) {
	for _, order := range []string{"job, cycle", "job DESC, cycle DESC"} {
		var job, cycle string
		err := tx.QueryRowContext(ctx, `SELECT job, cycle FROM `+table+` ORDER BY `+order+` LIMIT 1`).Scan(&job, &cycle)
		if errors.Is(err, sql.ErrNoRows) {
			return true, nil
		}
		if err != nil || job != c.Job || cycle != c.ID {
			return false, err
		}
	}
	return true, nil
}

// Watermark returns an object type's watermark.
func (s *Store) Watermark(ctx context.Context, job string, t connectors.ObjectType) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM watermarks WHERE job = ? AND type = ?`, job, string(t)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetWatermark stores an object type's watermark.
func (s *Store) SetWatermark(ctx context.Context, job string, t connectors.ObjectType, watermark string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO watermarks (job, type, value) VALUES (?,?,?) ON CONFLICT (job, type) DO UPDATE SET value = excluded.value`, job, string(t), watermark)
	return err
}

// Reset clears the selected state of a job.
func (s *Store) Reset(ctx context.Context, job string, scope store.ResetScope) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := unsettle(ctx, tx, job); err != nil {
			return err
		}
		if scope.Watermark {
			if _, err := tx.ExecContext(ctx, `DELETE FROM watermarks WHERE job = ?`, job); err != nil {
				return err
			}
		}
		if scope.Escrows {
			if _, err := tx.ExecContext(ctx, `UPDATE objects SET escrow = NULL, escrow_due = NULL WHERE job = ? AND escrow IS NOT NULL`, job); err != nil {
				return err
			}
		}
		if scope.ConnectorDataStore {
			for _, table := range []string{"objects", "source_groups", "source_members", "pending"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE job = ?`, job); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
