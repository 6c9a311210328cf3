package sampleapp

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elimity-com/scim"
	"github.com/google/uuid"
)

// record is one stored resource. A record is never mutated once stored: an
// update stores a new record, so readers may keep and marshal a record after
// releasing the table lock.
type record struct {
	id       string
	seq      uint64 // creation order, for stable paging
	attrs    scim.ResourceAttributes
	created  time.Time
	modified time.Time
	version  uint64
}

func (r *record) resource() scim.Resource {
	created, modified := r.created, r.modified
	return scim.Resource{
		ID:         r.id,
		Attributes: r.attrs,
		Meta: scim.Meta{
			Created:      &created,
			LastModified: &modified,
			Version:      etag(r.version),
		},
	}
}

func etag(v uint64) string {
	return `W/"` + strconv.FormatUint(v, 10) + `"`
}

// index maps the value of one top-level string attribute to record IDs, so
// the equality filters provisioning clients send are map lookups.
type index struct {
	attr   string // canonical attribute name
	fold   bool   // caseExact=false in the schema: compare lower-cased
	unique bool
	ids    map[string][]string
}

func (x *index) key(v string) string {
	if x.fold {
		return strings.ToLower(v)
	}
	return v
}

func (x *index) valueOf(attrs scim.ResourceAttributes) (string, bool) {
	s, ok := attrs[x.attr].(string)
	return s, ok && s != ""
}

func (x *index) add(r *record) {
	if v, ok := x.valueOf(r.attrs); ok {
		k := x.key(v)
		x.ids[k] = append(x.ids[k], r.id)
	}
}

func (x *index) remove(r *record) {
	v, ok := x.valueOf(r.attrs)
	if !ok {
		return
	}
	k := x.key(v)
	ids := x.ids[k]
	for i, id := range ids {
		if id == r.id {
			ids = append(ids[:i:i], ids[i+1:]...)
			break
		}
	}
	if len(ids) == 0 {
		delete(x.ids, k)
	} else {
		x.ids[k] = ids
	}
}

// conflicts reports whether attrs would break the index's uniqueness for a
// record other than self.
func (x *index) conflicts(attrs scim.ResourceAttributes, self string) bool {
	if !x.unique {
		return false
	}
	v, ok := x.valueOf(attrs)
	if !ok {
		return false
	}
	for _, id := range x.ids[x.key(v)] {
		if id != self {
			return true
		}
	}
	return false
}

// table holds the resources of one resource type.
type table struct {
	mu      sync.RWMutex
	now     func() time.Time
	seq     uint64
	byID    map[string]*record
	order   []*record // sorted by seq
	indexes map[string]*index
}

func newTable(now func() time.Time, indexes ...*index) *table {
	t := &table{now: now, byID: map[string]*record{}, indexes: map[string]*index{}}
	for _, x := range indexes {
		x.ids = map[string][]string{}
		t.indexes[x.attr] = x
	}
	return t
}

var errNotFound = errors.New("resource not found")

// errUniqueness is returned when a unique attribute's value is taken.
type errUniqueness struct{ attr string }

func (e errUniqueness) Error() string { return e.attr + " is already in use" }

func (t *table) checkUnique(attrs scim.ResourceAttributes, self string) error {
	for _, x := range t.indexes {
		if x.conflicts(attrs, self) {
			return errUniqueness{attr: x.attr}
		}
	}
	return nil
}

func (t *table) insert(attrs scim.ResourceAttributes) (*record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.checkUnique(attrs, ""); err != nil {
		return nil, err
	}
	now := t.now()
	t.seq++
	r := &record{id: uuid.NewString(), seq: t.seq, attrs: attrs, created: now, modified: now, version: 1}
	t.byID[r.id] = r
	t.order = append(t.order, r)
	for _, x := range t.indexes {
		x.add(r)
	}
	return r, nil
}

// update replaces a record's attributes with what fn returns; fn receives a
// copy made by copyForWrite.
func (t *table) update(id string, fn func(scim.ResourceAttributes) (scim.ResourceAttributes, error)) (*record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.byID[id]
	if !ok {
		return nil, errNotFound
	}
	attrs, err := fn(copyForWrite(old.attrs))
	if err != nil {
		return nil, err
	}
	if err := t.checkUnique(attrs, id); err != nil {
		return nil, err
	}
	r := &record{id: id, seq: old.seq, attrs: attrs, created: old.created, modified: t.now(), version: old.version + 1}
	t.byID[id] = r
	t.order[t.position(old)] = r
	for _, x := range t.indexes {
		x.remove(old)
		x.add(r)
	}
	return r, nil
}

func (t *table) delete(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byID[id]
	if !ok {
		return false
	}
	delete(t.byID, id)
	i := t.position(r)
	t.order = append(t.order[:i], t.order[i+1:]...)
	for _, x := range t.indexes {
		x.remove(r)
	}
	return true
}

// position finds a stored record in order by binary search on seq.
func (t *table) position(r *record) int {
	return sort.Search(len(t.order), func(i int) bool { return t.order[i].seq >= r.seq })
}

func (t *table) get(id string) (*record, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.byID[id]
	return r, ok
}

func (t *table) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.order)
}

// page returns records [start, start+count) in creation order (0-based
// start) and the total number of records.
func (t *table) page(start, count int) ([]*record, int) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return window(t.order, start, count), len(t.order)
}

// all returns every record in creation order.
func (t *table) all() []*record {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]*record(nil), t.order...)
}

// lookup returns the records whose indexed attribute equals value, in
// creation order; ok is false when attr has no index.
func (t *table) lookup(attr, value string) (recs []*record, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if attr == "id" {
		if r, found := t.byID[value]; found {
			return []*record{r}, true
		}
		return nil, true
	}
	x, ok := t.indexes[attr]
	if !ok {
		return nil, false
	}
	for _, id := range x.ids[x.key(value)] {
		recs = append(recs, t.byID[id])
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].seq < recs[j].seq })
	return recs, true
}

// scan returns the records for which keep is true, in creation order.
func (t *table) scan(keep func(*record) bool) []*record {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*record
	for _, r := range t.order {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// window returns recs[start:start+count] clamped to the slice.
func window(recs []*record, start, count int) []*record {
	start = min(max(start, 0), len(recs))
	end := min(start+max(count, 0), len(recs))
	return recs[start:end]
}
