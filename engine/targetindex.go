package engine

import (
	"context"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// indexFlush is how many listed objects are written to the index at once.
const indexFlush = 1000

// IndexType lists the target's objects of one type into the cycle's
// target index, by the values of the matching attributes, and marks the
// type complete once every object is in. It returns how many it listed.
func (e *Engine) IndexType(ctx context.Context, c store.Cycle, l connectors.Lister, t connectors.ObjectType, matching []string) (int, error) {
	if err := e.store.ResetTargetIndex(ctx, c, t); err != nil {
		return 0, err
	}
	n := 0
	batch := make([]store.IndexedObject, 0, indexFlush)
	flush := func() error {
		err := e.store.AddToTargetIndex(ctx, c, t, batch)
		batch = batch[:0]
		e.beat.Beat(ctx, n)
		return err
	}
	err := l.List(ctx, t, func(o connectors.TargetObject) error {
		n++
		batch = append(batch, store.IndexedObject{Object: o, Keys: indexKeys(o.Attributes, matching)})
		if len(batch) == indexFlush {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, err
	}
	return n, e.store.CompleteTargetIndex(ctx, c, t, n)
}

// indexKey is the form values are indexed in: canonical and lower-cased,
// so that a value the target may compare without case is found; whether
// case matters is checked on what is found.
func indexKey(attribute string, value any) store.IndexKey {
	return store.IndexKey{Attribute: attribute, Value: strings.ToLower(Canon(value))}
}

// indexKeys are the keys of a target object: one per value of each
// matching attribute it has.
func indexKeys(attrs connectors.Attributes, matching []string) []store.IndexKey {
	var keys []store.IndexKey
	for _, m := range matching {
		v, _ := attribute(attrs, m)
		for _, e := range elements(v) {
			if Canon(e) != "" {
				keys = append(keys, indexKey(m, e))
			}
		}
	}
	return keys
}

// attribute returns a target object's value of an attribute, ignoring the
// case of its name as targets do.
func attribute(attrs connectors.Attributes, name string) (any, bool) {
	if v, ok := attrs[name]; ok {
		return v, true
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// elements returns the values of a multi-valued attribute, or the value.
func elements(v any) []any {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []any:
		return x
	}
	return []any{v}
}

// holds reports whether a target object's attribute has exactly the value.
func holds(attrs connectors.Attributes, name, value string) bool {
	v, _ := attribute(attrs, name)
	for _, e := range elements(v) {
		if Canon(e) == value {
			return true
		}
	}
	return false
}

// batchIndex is what the cycle's target index holds under the matching
// values of a batch's unlinked objects, read in one query per attribute.
type batchIndex struct {
	// indexed holds, for each object type whose index is complete, how
	// many objects it holds.
	indexed map[connectors.ObjectType]int
	asked   map[typedKey]bool
	found   map[typedKey][]connectors.TargetObject
}

type typedKey struct {
	t connectors.ObjectType
	k store.IndexKey
}

// loadIndex reads from the cycle's target index what the batch's objects
// may match. A retried batch reads nothing: its first attempt may have
// created objects the index, read before, does not hold, so it queries the
// target as a batch without an index does.
func (b *batch) loadIndex(ctx context.Context, items []store.StagedItem) (*batchIndex, error) {
	if b.in.Retry {
		return nil, nil
	}
	bi := &batchIndex{indexed: map[connectors.ObjectType]int{}, asked: map[typedKey]bool{}, found: map[typedKey][]connectors.TargetObject{}}
	for t := range b.stagedIDs {
		n, complete, err := b.store.TargetIndexed(ctx, b.in.Cycle, t)
		if err != nil {
			return nil, err
		}
		if complete {
			bi.indexed[t] = n
		}
	}
	keys := map[connectors.ObjectType][]store.IndexKey{}
	var mapped []mappedItem
	for _, it := range items {
		o := it.Object
		idx, ok := b.objects[it.Type]
		n, complete := bi.indexed[it.Type]
		// Only unlinked objects that may be matched are looked up, and
		// nothing is looked up in an empty index.
		if !ok || !complete || it.Outcome != nil || o.Invalid != "" || o.Deleted || o.Disabled || b.states[it.Type][o.ID].Linked() {
			continue
		}
		prog := b.progs[idx].prog
		if prog == nil {
			continue // the item fails: its mapping does not compile
		}
		attrs, values, ok := scopedValues(prog, o, true)
		if !ok {
			continue
		}
		for _, m := range prog.Matching() {
			if v := values[m]; Canon(v) != "" && n > 0 {
				keys[it.Type] = append(keys[it.Type], indexKey(m, v))
			}
		}
		mapped = append(mapped, mappedItem{item: it, prog: prog, attrs: attrs, values: values})
	}
	for t, ks := range keys {
		found, err := b.store.LookupTargetIndex(ctx, b.in.Cycle, t, ks)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			bi.asked[typedKey{t, k}] = true
		}
		for k, objs := range found {
			bi.found[typedKey{t, k}] = objs
		}
	}
	if err := b.planCreates(ctx, bi, mapped); err != nil {
		return nil, err
	}
	return bi, nil
}

// lookup returns the indexed objects whose attribute equals value, and
// false when the index cannot tell: no index for the type, a value not
// read beforehand or with several elements, or an object whose value
// differs in case only, which the target decides.
func (bi *batchIndex) lookup(t connectors.ObjectType, attribute string, value any) ([]connectors.TargetObject, bool) {
	if bi == nil || len(elements(value)) != 1 {
		return nil, false
	}
	n, complete := bi.indexed[t]
	switch {
	case !complete:
		return nil, false
	case n == 0:
		return nil, true
	}
	k := typedKey{t, indexKey(attribute, value)}
	if !bi.asked[k] {
		return nil, false
	}
	objs := bi.found[k]
	for _, o := range objs {
		if !holds(o.Attributes, attribute, Canon(value)) {
			return nil, false
		}
	}
	return objs, true
}
