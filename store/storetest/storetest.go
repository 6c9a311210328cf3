// Package storetest is the conformance suite of store.Store: every state
// store runs the same tests of the interface's documented behaviour.
package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// Run runs the suite. open returns an empty store, closed when its test
// ends; each subtest opens its own, and subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"ObjectsRoundTrip", objectsRoundTrip},
		{"PutObjectReplaces", putObjectReplaces},
		{"ObjectsManyIDs", objectsManyIDs},
		{"ObjectsOfARange", objectsOfARange},
		{"Fingerprints", fingerprints},
		{"FingerprintsInOrder", fingerprintsInOrder},
		{"Connections", connections},
		{"IterationCallbacksWrite", iterationCallbacksWrite},
		{"LookupTarget", lookupTarget},
		{"Stage", stage},
		{"TruncateStage", truncateStage},
		{"Record", record},
		{"RecordAppliesInTurn", recordAppliesInTurn},
		{"PendingOperations", pendingOperations},
		{"DueEscrows", dueEscrows},
		{"UnseenDueEscrows", unseenDueEscrows},
		{"Unseen", unseen},
		{"MarkSeenManyIDs", markSeenManyIDs},
		{"MarkSeenOverlappingPages", markSeenOverlappingPages},
		{"SettledCycle", settledCycle},
		{"EndCycle", endCycle},
		{"Watermarks", watermarks},
		{"ResetWatermark", resetWatermark},
		{"ResetEscrows", resetEscrows},
		{"ResetConnectorDataStore", resetConnectorDataStore},
		{"SourceGroups", sourceGroups},
		{"FindSourceGroups", findSourceGroups},
		{"ForgetUnseenGroups", forgetUnseenGroups},
		{"PendingWork", pendingWork},
		{"Referrers", referrers},
		{"TargetIndex", targetIndex},
		{"TargetIndexLookup", targetIndexLookup},
		{"ConcurrentBatches", concurrentBatches},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

// IDs whose byte order (Go's, and the stores') differs from a natural
// language's: "B" < "a", "Z" < "_x" < "a", "é" last.
var mixedIDs = []string{"b", "é", "B", "a", "A9", "_x", "A10", "Z", "0"}

func sorted(ids []string) []string { return slices.Sorted(slices.Values(ids)) }

func user(id, target string) store.ObjectState {
	return store.ObjectState{Type: connectors.User, SourceID: id, SourceHash: "h" + id, TargetID: target, Active: target != ""}
}

func escrowed(id string, retry time.Time) store.ObjectState {
	o := user(id, "")
	o.Escrow = &store.Escrow{Attempts: 1, RetryAfter: retry, Code: "Unavailable", Reason: "down", Object: connectors.Object{ID: id}}
	return o
}

func put(t *testing.T, s store.Store, job string, states ...store.ObjectState) {
	t.Helper()
	for _, o := range states {
		require.NoError(t, s.PutObject(t.Context(), job, o))
	}
}

// putMany writes states in one Record, the fast way to fill a store.
func putMany(t *testing.T, s store.Store, job string, states ...store.ObjectState) {
	t.Helper()
	recs := make([]store.Record, len(states))
	for i := range states {
		recs[i] = store.Record{State: &states[i]}
	}
	require.NoError(t, s.Record(t.Context(), store.Cycle{Job: job, ID: "fill"}, recs))
}

// ids collects the source IDs an iteration visits.
func ids(t *testing.T, iterate func(fn func(store.ObjectState) error) error) []string {
	t.Helper()
	var out []string
	require.NoError(t, iterate(func(o store.ObjectState) error {
		out = append(out, o.SourceID)
		return nil
	}))
	return out
}

func connectionIDs(t *testing.T, s store.Store, job string, typ connectors.ObjectType) []string {
	return ids(t, func(fn func(store.ObjectState) error) error { return s.Connections(t.Context(), job, typ, fn) })
}

func unseenIDs(t *testing.T, s store.Store, c store.Cycle, typ connectors.ObjectType) []string {
	return ids(t, func(fn func(store.ObjectState) error) error { return s.Unseen(t.Context(), c, typ, fn) })
}

func dueIDs(t *testing.T, s store.Store, job string, now time.Time) []string {
	return ids(t, func(fn func(store.ObjectState) error) error {
		return s.DueEscrows(t.Context(), job, connectors.User, now, fn)
	})
}

func objectsRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	updated := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	retry := updated.Add(time.Hour)
	want := store.ObjectState{Type: connectors.User, SourceID: "E1", SourceHash: "h1", TargetID: "t1", Active: true,
		Pushed:     connectors.Attributes{"userName": "a@example.com", "active": true},
		Members:    []string{"t2", "t3"},
		References: map[string]string{"manager": "E9"},
		Escrow: &store.Escrow{Attempts: 3, RetryAfter: retry, Code: "Conflict", Reason: "taken",
			Object: connectors.Object{ID: "E1", Locator: "row 2", Attributes: connectors.Attributes{"mail": "a@example.com"}}},
		UpdatedAt: updated}
	put(t, s, "job", want)
	put(t, s, "other", store.ObjectState{Type: connectors.User, SourceID: "E1", SourceHash: "other"})
	put(t, s, "job", store.ObjectState{Type: connectors.Group, SourceID: "E1", SourceHash: "group"})

	got, err := s.Objects(ctx, "job", connectors.User, []string{"E1", "E2"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	o := got["E1"]
	require.True(t, o.UpdatedAt.Equal(updated), "updated at %v", o.UpdatedAt)
	require.True(t, o.Escrow.RetryAfter.Equal(retry), "retry after %v", o.Escrow.RetryAfter)
	o.UpdatedAt, o.Escrow.RetryAfter = updated, retry
	require.Equal(t, want, o)

	got, err = s.Objects(ctx, "job", connectors.Group, []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, "group", got["E1"].SourceHash, "types are apart")
	got, err = s.Objects(ctx, "other", connectors.User, []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, "other", got["E1"].SourceHash, "jobs are apart")

	// Empty values read back empty; an empty member list stays apart from none.
	before := time.Now().Add(-time.Second)
	put(t, s, "job", store.ObjectState{Type: connectors.User, SourceID: "E2"}, store.ObjectState{Type: connectors.User, SourceID: "E3", Members: []string{}})
	got, err = s.Objects(ctx, "job", connectors.User, []string{"E2", "E3"})
	require.NoError(t, err)
	e2 := got["E2"]
	require.True(t, e2.UpdatedAt.After(before), "a zero UpdatedAt is stored as now, got %v", e2.UpdatedAt)
	e2.UpdatedAt = time.Time{}
	require.Equal(t, store.ObjectState{Type: connectors.User, SourceID: "E2"}, e2)
	require.NotNil(t, got["E3"].Members)
	require.Empty(t, got["E3"].Members)

	got, err = s.Objects(ctx, "job", connectors.User, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func putObjectReplaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	o := escrowed("A", now.Add(-time.Minute))
	o.Pushed, o.References, o.TargetID = connectors.Attributes{"userName": "a"}, map[string]string{"manager": "B"}, "tA"
	put(t, s, "job", o)
	require.Equal(t, []string{"A"}, dueIDs(t, s, "job", now))

	put(t, s, "job", store.ObjectState{Type: connectors.User, SourceID: "A", SourceHash: "new"})
	got, err := s.Objects(ctx, "job", connectors.User, []string{"A"})
	require.NoError(t, err)
	a := got["A"]
	require.Equal(t, "new", a.SourceHash)
	require.Empty(t, a.TargetID)
	require.Nil(t, a.Pushed)
	require.Nil(t, a.References)
	require.Nil(t, a.Escrow)
	require.Empty(t, dueIDs(t, s, "job", now), "the escrow's due time goes with it")
	require.Empty(t, connectionIDs(t, s, "job", connectors.User))
}

func objectsManyIDs(t *testing.T, s store.Store) {
	var (
		ids    []string
		states []store.ObjectState
	)
	for i := range 1200 {
		id := fmt.Sprint("E", i)
		ids = append(ids, id)
		states = append(states, user(id, ""))
	}
	putMany(t, s, "job", states...)
	got, err := s.Objects(t.Context(), "job", connectors.User, append(ids, "absent"))
	require.NoError(t, err)
	require.Len(t, got, 1200)
	require.Equal(t, "hE1199", got["E1199"].SourceHash)
}

// rangeReads stores the users the key-range tests read, 3,000 in ID order
// and those of mixedIDs, with a group and another job's user among them,
// and returns a check that read, given IDs, finds exactly want by their
// source hashes.
func rangeReads(t *testing.T, s store.Store, read func(ids []string) (map[string]string, error)) func(ids, want []string, msg string) {
	var states []store.ObjectState
	for i := range 3000 {
		states = append(states, user(fmt.Sprintf("P%05d", i), fmt.Sprint("t", i)))
	}
	for _, id := range mixedIDs {
		states = append(states, user(id, ""))
	}
	putMany(t, s, "job", states...)
	put(t, s, "job", store.ObjectState{Type: connectors.Group, SourceID: "P01500", SourceHash: "group"})
	put(t, s, "other", user("P01501", "other"))
	return func(ids, want []string, msg string) {
		t.Helper()
		got, err := read(ids)
		require.NoError(t, err)
		require.ElementsMatch(t, want, slices.Collect(maps.Keys(got)), msg)
		for _, id := range want {
			require.Equal(t, "h"+id, got[id], msg)
		}
	}
}

// sourceHashes maps what a read returned to its source hashes.
func sourceHashes[V any](read map[string]V, hash func(V) string) map[string]string {
	out := make(map[string]string, len(read))
	for id, v := range read {
		out[id] = hash(v)
	}
	return out
}

// Objects returns the known objects among many IDs in any order, whether
// their key range holds few objects besides them or many.
func objectsOfARange(t *testing.T, s store.Store) {
	check := rangeReads(t, s, func(ids []string) (map[string]string, error) {
		got, err := s.Objects(t.Context(), "job", connectors.User, ids)
		return sourceHashes(got, func(o store.ObjectState) string { return o.SourceHash }), err
	})
	var dense, want []string
	for i := 1999; i >= 1000; i-- {
		id := fmt.Sprintf("P%05d", i)
		dense, want = append(dense, id), append(want, id)
		if i%7 == 0 {
			dense = append(dense, id+"-new")
		}
	}
	check(dense, want, "known IDs among new ones, in reverse order")
	var sparse, some []string
	for i := 0; i < 3000; i += 20 {
		sparse, some = append(sparse, fmt.Sprintf("P%05d", i)), append(some, fmt.Sprintf("P%05d", i))
		sparse = append(sparse, fmt.Sprintf("P%05d-new", i))
	}
	check(sparse, some, "IDs whose range holds many other objects")
	fresh := []string{"P02999"}
	for i := range 100 {
		fresh = append(fresh, fmt.Sprintf("Q%05d", i))
	}
	check(fresh, []string{"P02999"}, "new IDs but one")
	check(fresh[1:], nil, "new IDs only")
	mixed := slices.Clone(mixedIDs)
	for i := range 100 {
		mixed = append(mixed, fmt.Sprint("absent", i))
	}
	check(mixed, mixedIDs, "IDs whose byte order differs from a language's")
}

func fingerprints(t *testing.T, s store.Store) {
	ctx := t.Context()
	retry := time.Now().Add(time.Hour)
	put(t, s, "job", store.ObjectState{Type: connectors.User, SourceID: "A", SourceHash: "ha", TargetID: "tA", Active: true, Pushed: connectors.Attributes{"userName": "a"}})
	put(t, s, "job", store.ObjectState{Type: connectors.User, SourceID: "D", SourceHash: "hd", TargetID: "tD"})
	put(t, s, "job", store.ObjectState{Type: connectors.User, SourceID: "B", SourceHash: "hb",
		Escrow: &store.Escrow{Attempts: 2, RetryAfter: retry, Object: connectors.Object{ID: "B"}}})
	put(t, s, "job", store.ObjectState{Type: connectors.Group, SourceID: "C", SourceHash: "hc"})
	put(t, s, "other", store.ObjectState{Type: connectors.User, SourceID: "C", SourceHash: "hc"})
	ids := []string{"A", "B", "C", "D"}
	for i := range 1200 {
		ids = append(ids, fmt.Sprint("absent", i))
	}
	got, err := s.Fingerprints(ctx, "job", connectors.User, ids)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, store.Fingerprint{SourceHash: "ha", Linked: true, Active: true}, got["A"])
	require.Equal(t, store.Fingerprint{SourceHash: "hd", Linked: true}, got["D"], "linked, its account disabled")
	require.Equal(t, "hb", got["B"].SourceHash)
	require.False(t, got["B"].Linked)
	require.Equal(t, 2, got["B"].Escrow.Attempts)
	require.Equal(t, "B", got["B"].Escrow.Object.ID)
}

// Pages of IDs in order, as a snapshot sorted by its key reads, whether
// their range holds the page's objects only or very many others between.
func fingerprintsInOrder(t *testing.T, s store.Store) {
	check := rangeReads(t, s, func(ids []string) (map[string]string, error) {
		got, err := s.Fingerprints(t.Context(), "job", connectors.User, ids)
		return sourceHashes(got, func(f store.Fingerprint) string { return f.SourceHash }), err
	})
	var dense, want []string
	for i := 1000; i < 2000; i++ {
		id := fmt.Sprintf("P%05d", i)
		dense, want = append(dense, id), append(want, id)
		if i%7 == 0 {
			dense = append(dense, id+"-new") // not known: sorts right after id
		}
	}
	check(dense, want, "a dense page, new IDs among known ones")
	check([]string{"P00000", "P01500", "P01501", "P02999", "Q"}, []string{"P00000", "P01500", "P01501", "P02999"},
		"a page whose range holds many other objects")
	check([]string{"P00001", "P00001", "P00002"}, []string{"P00001", "P00002"}, "an ID twice")
	check(sorted(mixedIDs), mixedIDs, "IDs in byte order")
}

func connections(t *testing.T, s store.Store) {
	ctx := t.Context()
	var states, want []store.ObjectState
	for _, id := range mixedIDs {
		states = append(states, user(id, "t"+id), user("unlinked"+id, ""))
	}
	// More than a page of any reasonable paging.
	for i := range 2500 {
		states = append(states, user(fmt.Sprintf("U%05d", i), fmt.Sprint("t", i)))
	}
	for _, o := range states {
		if o.Linked() {
			want = append(want, o)
		}
	}
	putMany(t, s, "job", states...)
	put(t, s, "job", store.ObjectState{Type: connectors.Group, SourceID: "G", TargetID: "tG"})
	put(t, s, "other", user("O", "tO"))

	n, err := s.CountLinked(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Equal(t, len(want), n, "linked users of the job only")
	n, err = s.CountLinked(ctx, "job", connectors.Group)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	var got []store.ObjectState
	require.NoError(t, s.Connections(ctx, "job", connectors.User, func(o store.ObjectState) error {
		got = append(got, o)
		return nil
	}))
	wantIDs := make([]string, len(want))
	for i, o := range want {
		wantIDs[i] = o.SourceID
	}
	gotIDs := make([]string, len(got))
	for i, o := range got {
		gotIDs[i] = o.SourceID
	}
	require.Equal(t, sorted(wantIDs), gotIDs, "every linked object once, in byte order of source IDs")
	require.Equal(t, "tB", got[slices.Index(gotIDs, "B")].TargetID)
	require.Equal(t, []string{"G"}, connectionIDs(t, s, "job", connectors.Group))

	stop := errors.New("stop")
	calls := 0
	err = s.Connections(ctx, "job", connectors.User, func(store.ObjectState) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 3, calls)
}

// Callbacks of the iterations may use the store, and see every object once
// even when they change what the iteration selects.
func iterationCallbacksWrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	now := time.Now()
	const n = 1100
	var states []store.ObjectState
	for i := range n {
		o := escrowed(fmt.Sprintf("U%05d", i), now.Add(-time.Minute))
		o.TargetID = fmt.Sprint("t", i)
		states = append(states, o)
	}
	putMany(t, s, "job", states...)
	// Every tenth object is written, from the first page on.
	tenth := func(o store.ObjectState) bool { return strings.HasSuffix(o.SourceID, "0") }

	seen := map[string]int{}
	require.NoError(t, s.Connections(ctx, "job", connectors.User, func(o store.ObjectState) error {
		seen[o.SourceID]++
		if !tenth(o) {
			return nil
		}
		o.TargetID = "rewritten"
		return s.PutObject(ctx, "job", o)
	}))
	require.Len(t, seen, n)
	for id, k := range seen {
		require.Equal(t, 1, k, id)
	}
	found, ok, err := s.LookupTarget(ctx, "job", connectors.User, "rewritten")
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, tenth(found))

	visited := 0
	require.NoError(t, s.DueEscrows(ctx, "job", connectors.User, now, func(o store.ObjectState) error {
		visited++
		if !tenth(o) {
			return nil
		}
		o.Escrow = nil
		return s.PutObject(ctx, "job", o)
	}))
	require.Equal(t, n, visited)
	require.Len(t, dueIDs(t, s, "job", now), n-n/10)

	visited = 0
	require.NoError(t, s.UnseenDueEscrows(ctx, c, connectors.User, now, func(o store.ObjectState) error {
		visited++
		if !strings.HasSuffix(o.SourceID, "1") {
			return nil
		}
		o.Escrow = nil
		return s.PutObject(ctx, "job", o)
	}))
	require.Equal(t, n-n/10, visited)
	require.Len(t, dueIDs(t, s, "job", now), n-2*n/10)

	visited = 0
	require.NoError(t, s.Unseen(ctx, c, connectors.User, func(o store.ObjectState) error {
		visited++
		if !tenth(o) {
			return nil
		}
		return s.Record(ctx, c, []store.Record{{Forget: true, Type: connectors.User, SourceID: o.SourceID}})
	}))
	require.Equal(t, n, visited)
	require.Len(t, connectionIDs(t, s, "job", connectors.User), n-n/10)
}

func lookupTarget(t *testing.T, s store.Store) {
	ctx := t.Context()
	put(t, s, "job", user("A", "tA"), user("B", "tB"), user("C", ""))
	put(t, s, "other", user("X", "tX"))
	found, ok, err := s.LookupTarget(ctx, "job", connectors.User, "tB")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "B", found.SourceID)
	require.Equal(t, "hB", found.SourceHash)

	for _, q := range []struct {
		job string
		typ connectors.ObjectType
		id  string
	}{{"job", connectors.User, "tX"}, {"job", connectors.Group, "tA"}, {"job", connectors.User, "TA"}, {"other", connectors.User, "tA"}} {
		_, ok, err := s.LookupTarget(ctx, q.job, q.typ, q.id)
		require.NoError(t, err)
		require.False(t, ok, "%+v", q)
	}
}

func item(seq int, id string) store.StagedItem {
	return store.StagedItem{Seq: seq, Type: connectors.User, Object: connectors.Object{ID: id}}
}

func stagedIDs(t *testing.T, s store.Store, c store.Cycle, from, to int) []string {
	t.Helper()
	items, err := s.Staged(t.Context(), c, from, to)
	require.NoError(t, err)
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprint(it.Seq, ":", it.Object.ID))
	}
	return out
}

func stage(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "7"}
	full := store.StagedItem{Seq: 1, Type: connectors.Group, Outcome: []byte(`{"action":"Add"}`), Object: connectors.Object{
		ID: "G", Locator: "row 3", Attributes: connectors.Attributes{"displayName": "Staff", "x": true}, Members: []string{"E1", "E2"}, Disabled: true}}
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{item(3, "C"), full, item(2, "B")}))
	require.NoError(t, s.Stage(ctx, store.Cycle{Job: "job", ID: "8"}, []store.StagedItem{item(2, "other cycle")}))
	require.NoError(t, s.Stage(ctx, store.Cycle{Job: "other", ID: "7"}, []store.StagedItem{item(2, "other job")}))
	require.NoError(t, s.Stage(ctx, c, nil))

	items, err := s.Staged(ctx, c, 1, 3)
	require.NoError(t, err)
	require.Len(t, items, 3)
	// A store may give the attributes' encoding it read, which
	// fingerprints are taken of: it must be the one AppendJSON makes.
	if enc := items[0].AttributesJSON; enc != "" {
		want, err := store.AppendJSON(nil, full.Object.Attributes)
		require.NoError(t, err)
		require.Equal(t, string(want), string(enc))
		items[0].AttributesJSON = ""
	}
	require.Equal(t, full, items[0])
	require.Nil(t, items[1].Outcome)
	require.Equal(t, []string{"1:G", "2:B", "3:C"}, stagedIDs(t, s, c, 0, 100), "in Seq order")
	require.Equal(t, []string{"2:B", "3:C"}, stagedIDs(t, s, c, 2, 3), "from and to are included")
	require.Empty(t, stagedIDs(t, s, c, 4, 100))

	// Staging a Seq again replaces the item, outcome and all; in one call the last wins.
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{item(1, "A"), item(4, "D"), item(4, "D2")}))
	require.Equal(t, []string{"1:A", "2:B", "3:C", "4:D2"}, stagedIDs(t, s, c, 1, 10))
	items, err = s.Staged(ctx, c, 1, 1)
	require.NoError(t, err)
	require.Nil(t, items[0].Outcome)
	require.Equal(t, connectors.User, items[0].Type)
	require.Equal(t, []string{"2:other cycle"}, stagedIDs(t, s, store.Cycle{Job: "job", ID: "8"}, 1, 10))
	require.Equal(t, []string{"2:other job"}, stagedIDs(t, s, store.Cycle{Job: "other", ID: "7"}, 1, 10))
}

func truncateStage(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, other := store.Cycle{Job: "job", ID: "1"}, store.Cycle{Job: "job", ID: "2"}
	for _, cy := range []store.Cycle{c, other} {
		require.NoError(t, s.Stage(ctx, cy, []store.StagedItem{item(1, "A"), item(2, "B"), item(3, "C"), item(4, "D")}))
	}
	require.NoError(t, s.Record(ctx, c, []store.Record{{Seq: 2, Outcome: []byte(`{"action":"Add"}`)}, {Seq: 3, Outcome: []byte(`{"action":"Add"}`)}}))
	require.NoError(t, s.TruncateStage(ctx, c, 2))
	require.Equal(t, []string{"1:A", "2:B"}, stagedIDs(t, s, c, 1, 10))
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{item(3, "C2")}), "a resumed fetch stages again")
	require.Equal(t, []string{"1:A", "2:B", "3:C2"}, stagedIDs(t, s, c, 1, 10))
	require.Equal(t, map[int]string{2: `{"action":"Add"}`}, outcomes(t, s, c), "the outcome of an item dropped goes with it")
	require.NoError(t, s.TruncateStage(ctx, c, 0))
	require.Empty(t, stagedIDs(t, s, c, 0, 10))
	require.Len(t, stagedIDs(t, s, other, 1, 10), 4, "other cycles keep theirs")
}

func outcomes(t *testing.T, s store.Store, c store.Cycle) map[int]string {
	t.Helper()
	items, err := s.Staged(t.Context(), c, 1, 100)
	require.NoError(t, err)
	out := map[int]string{}
	for _, it := range items {
		if it.Outcome != nil {
			out[it.Seq] = string(it.Outcome)
		}
	}
	return out
}

func record(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, other := store.Cycle{Job: "job", ID: "7"}, store.Cycle{Job: "job", ID: "8"}
	put(t, s, "job", user("A", "tA"), user("B", "tB"), user("C", ""), store.ObjectState{Type: connectors.Group, SourceID: "B", TargetID: "gB"})
	put(t, s, "other", user("B", "tB"))
	for _, cy := range []store.Cycle{c, other} {
		require.NoError(t, s.Stage(ctx, cy, []store.StagedItem{item(1, "A"), item(2, "B"), item(3, "C"), item(4, "D")}))
	}

	a := user("A", "tA")
	a.SourceHash, a.Pushed = "new", connectors.Attributes{"userName": "a"}
	cc := user("C", "tC")
	require.NoError(t, s.Record(ctx, c, []store.Record{
		{Seq: 1, Outcome: []byte(`{"action":"Update"}`), State: &a},
		{Seq: 2, Outcome: []byte(`{"action":"Delete"}`), Forget: true, Type: connectors.User, SourceID: "B"},
		{Seq: 3, State: &cc},
		{Seq: 4, Outcome: []byte(`{"action":"Skip"}`)},
		{Seq: 9, Outcome: []byte(`{"action":"Nothing staged"}`)},
	}))
	require.Equal(t, map[int]string{1: `{"action":"Update"}`, 2: `{"action":"Delete"}`, 4: `{"action":"Skip"}`}, outcomes(t, s, c))
	require.Empty(t, outcomes(t, s, other), "outcomes belong to their cycle")

	got, err := s.Objects(ctx, "job", connectors.User, []string{"A", "B", "C"})
	require.NoError(t, err)
	require.Equal(t, "new", got["A"].SourceHash)
	require.Equal(t, "a", got["A"].Pushed["userName"])
	require.NotContains(t, got, "B", "forgotten")
	require.Equal(t, "tC", got["C"].TargetID)
	groups, err := s.Objects(ctx, "job", connectors.Group, []string{"B"})
	require.NoError(t, err)
	require.Contains(t, groups, "B", "Forget removes the object of its type only")
	others, err := s.Objects(ctx, "other", connectors.User, []string{"B"})
	require.NoError(t, err)
	require.Contains(t, others, "B", "and of its job")

	// A later outcome replaces an earlier one; no outcome leaves it.
	require.NoError(t, s.Record(ctx, c, []store.Record{{Seq: 1, Outcome: []byte(`{"action":"Retry"}`)}, {Seq: 2}}))
	require.Equal(t, map[int]string{1: `{"action":"Retry"}`, 2: `{"action":"Delete"}`, 4: `{"action":"Skip"}`}, outcomes(t, s, c))
	require.NoError(t, s.Record(ctx, c, nil))
}

// Records of one call apply in turn: the last about an object or item wins.
func recordAppliesInTurn(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	put(t, s, "job", user("Y", "tY"))
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{item(1, "X"), item(2, "Y")}))
	x, y1, y2 := user("X", "tX"), user("Y", "tY1"), user("Y", "tY2")
	require.NoError(t, s.Record(ctx, c, []store.Record{
		{Seq: 1, Outcome: []byte(`"first"`), State: &x},
		{Seq: 1, Outcome: []byte(`"second"`), Forget: true, Type: connectors.User, SourceID: "X"},
		{Seq: 2, Forget: true, Type: connectors.User, SourceID: "Y"},
		{Seq: 2, State: &y1},
		{Seq: 2, State: &y2},
	}))
	got, err := s.Objects(ctx, "job", connectors.User, []string{"X", "Y"})
	require.NoError(t, err)
	require.NotContains(t, got, "X")
	require.Equal(t, "tY2", got["Y"].TargetID)
	require.Equal(t, map[int]string{1: `"second"`}, outcomes(t, s, c))
}

// An object's pending operation is kept with its state until a state
// without one is recorded; an operation on an object not linked yet (a
// create) does not make it a connection.
func pendingOperations(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "5"}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	create := &store.Operation{ChangeID: "5-1", Action: audit.Create, Time: at,
		Modified: []audit.Property{{Name: "userName", New: "a@example.com"}, {Name: "password", New: audit.Redacted}}}
	a := store.ObjectState{Type: connectors.User, SourceID: "A", Operation: create}
	b := user("B", "tB")
	b.Operation = &store.Operation{ChangeID: "5-members-B", Action: audit.Update, TargetID: "tB", Done: true, Time: at,
		Modified: []audit.Property{{Name: "members", Old: "removed t1", New: "added t2"}}}
	put(t, s, "job", a, b)
	operations := func() map[string]*store.Operation {
		got, err := s.Objects(ctx, "job", connectors.User, []string{"A", "B"})
		require.NoError(t, err)
		out := map[string]*store.Operation{}
		for id, o := range got {
			if o.Operation != nil {
				o.Operation.Time = o.Operation.Time.UTC()
			}
			out[id] = o.Operation
		}
		return out
	}
	require.Equal(t, map[string]*store.Operation{"A": create, "B": b.Operation}, operations())
	require.Equal(t, []string{"B"}, connectionIDs(t, s, "job", connectors.User), "a pending create links nothing")
	n, err := s.CountLinked(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Recording the outcome clears the operation; a failure whose outcome
	// is unknown keeps it.
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{item(1, "A"), item(2, "B")}))
	linked, failed := user("A", "tA"), b
	failed.Escrow = &store.Escrow{Attempts: 1, RetryAfter: at, Code: "Timeout"}
	require.NoError(t, s.Record(ctx, c, []store.Record{{Seq: 1, Outcome: []byte(`{"action":"Create"}`), State: &linked}, {Seq: 2, Outcome: []byte(`{}`), State: &failed}}))
	require.Equal(t, map[string]*store.Operation{"A": nil, "B": b.Operation}, operations())

	put(t, s, "job", user("B", "tB"))
	require.Equal(t, map[string]*store.Operation{"A": nil, "B": nil}, operations(), "a state put without an operation clears it")

	a.Operation = create
	put(t, s, "job", a)
	require.NoError(t, s.Record(ctx, c, []store.Record{{Seq: 1, Forget: true, Type: connectors.User, SourceID: "A"}}))
	require.Equal(t, map[string]*store.Operation{"B": nil}, operations(), "forgetting the object drops its operation")
}

func dueEscrows(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	put(t, s, "job",
		escrowed("b", now.Add(-time.Hour)),
		escrowed("B", now),
		escrowed("A", now.Add(-24*time.Hour)),
		escrowed("C", now.Add(time.Millisecond)),
		escrowed("D", now.Add(time.Hour)),
		user("E", "tE"))
	group := escrowed("G", now.Add(-time.Hour))
	group.Type = connectors.Group
	put(t, s, "job", group)
	put(t, s, "other", escrowed("O", now.Add(-time.Hour)))

	var got []store.ObjectState
	require.NoError(t, s.DueEscrows(ctx, "job", connectors.User, now, func(o store.ObjectState) error {
		got = append(got, o)
		return nil
	}))
	require.Len(t, got, 3)
	require.Equal(t, []string{"A", "B", "b"}, []string{got[0].SourceID, got[1].SourceID, got[2].SourceID}, "due at or before now, in source ID order")
	require.Equal(t, "B", got[1].Escrow.Object.ID)
	require.True(t, got[1].Escrow.RetryAfter.Equal(now))
	require.Equal(t, []string{"A", "B", "C", "b"}, dueIDs(t, s, "job", now.Add(time.Millisecond)))
	require.Empty(t, dueIDs(t, s, "job", now.Add(-25*time.Hour)))

	stop := errors.New("stop")
	require.ErrorIs(t, s.DueEscrows(ctx, "job", connectors.User, now, func(store.ObjectState) error { return stop }), stop)
}

func unseenDueEscrows(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := store.Cycle{Job: "job", ID: "7"}
	put(t, s, "job",
		escrowed("b", now.Add(-time.Hour)),
		escrowed("B", now),
		escrowed("A", now.Add(-24*time.Hour)),
		escrowed("a", now.Add(-time.Hour)),
		escrowed("D", now.Add(time.Hour)),
		user("E", "tE"))
	group := escrowed("G", now.Add(-time.Hour))
	group.Type = connectors.Group
	put(t, s, "job", group)
	put(t, s, "other", escrowed("O", now.Add(-time.Hour)))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, []string{"a", "D", "E", "nobody"}))
	require.NoError(t, s.MarkSeen(ctx, store.Cycle{Job: "job", ID: "6"}, connectors.User, []string{"A"}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.Group, []string{"B"}))

	due := func(c store.Cycle, now time.Time) []string {
		return ids(t, func(fn func(store.ObjectState) error) error {
			return s.UnseenDueEscrows(ctx, c, connectors.User, now, fn)
		})
	}
	require.Equal(t, []string{"A", "B", "b"}, due(c, now),
		"due, of the job and type, not marked seen in this cycle (marks of another cycle or type do not count), in source ID order")
	require.Equal(t, []string{"B", "D", "a", "b"}, due(store.Cycle{Job: "job", ID: "6"}, now.Add(time.Hour)), "in the cycle that marked A seen, an hour later")
	require.Equal(t, []string{"O"}, due(store.Cycle{Job: "other", ID: "7"}, now))

	var got []store.ObjectState
	require.NoError(t, s.UnseenDueEscrows(ctx, c, connectors.User, now, func(o store.ObjectState) error {
		got = append(got, o)
		return nil
	}))
	require.Equal(t, "B", got[1].Escrow.Object.ID, "the escrowed record comes with the state")
	stop := errors.New("stop")
	require.ErrorIs(t, s.UnseenDueEscrows(ctx, c, connectors.User, now, func(store.ObjectState) error { return stop }), stop)
}

func unseen(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "7"}
	var states []store.ObjectState
	for _, id := range mixedIDs {
		states = append(states, user(id, "t"+id))
	}
	states = append(states, user("unlinked", ""))
	putMany(t, s, "job", states...)
	put(t, s, "job", store.ObjectState{Type: connectors.Group, SourceID: "G1"}, store.ObjectState{Type: connectors.Group, SourceID: "b"})
	put(t, s, "other", user("O", "tO"))

	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, []string{"a", "Z", "absent", "a"}))
	require.NoError(t, s.MarkSeen(ctx, store.Cycle{Job: "job", ID: "8"}, connectors.User, []string{"b"}))
	require.NoError(t, s.MarkSeen(ctx, store.Cycle{Job: "other", ID: "7"}, connectors.User, []string{"b"}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.Group, []string{"B", "b"}))

	var want []string
	for _, id := range append(slices.Clone(mixedIDs), "unlinked") {
		if id != "a" && id != "Z" {
			want = append(want, id)
		}
	}
	require.Equal(t, sorted(want), unseenIDs(t, s, c, connectors.User), "every known object not marked in this cycle for this type, in order")
	require.Equal(t, []string{"G1"}, unseenIDs(t, s, c, connectors.Group))
	require.Equal(t, []string{"O"}, unseenIDs(t, s, store.Cycle{Job: "other", ID: "8"}, connectors.User))
}

func markSeenManyIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	var (
		ids    []string
		states []store.ObjectState
	)
	for i := range 1200 {
		id := fmt.Sprint("E", i)
		ids = append(ids, id)
		states = append(states, user(id, ""))
	}
	putMany(t, s, "job", states...)
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, ids[1:]))
	require.Equal(t, []string{"E0"}, unseenIDs(t, s, c, connectors.User))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, ids[:2]), "marking twice is harmless")
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, nil))
	require.Empty(t, unseenIDs(t, s, c, connectors.User))
}

// markSeenOverlappingPages marks seen, page by page as reads do, IDs in
// no order, some twice, some in other cycles and types, some unknown, some
// that sort around the known ones (a prefix, an empty ID, bytes above
// ASCII); what is unseen is exactly the known objects no page marked.
func markSeenOverlappingPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	known := []string{"", "E", "E1", "E10", "E2", "e1", "Z", "é", "日本"}
	for i := range 2500 {
		known = append(known, fmt.Sprintf("E%05d", (i*7919)%2500))
	}
	var states []store.ObjectState
	for _, id := range known {
		states = append(states, user(id, ""))
	}
	putMany(t, s, "job", states...)
	want := map[string]bool{}
	for _, id := range known {
		want[id] = true
	}
	var page []string
	for i, id := range known {
		if i%3 == 0 {
			continue // never marked
		}
		page = append(page, id, id+"-unknown")
		if i%5 == 0 {
			page = append(page, known[i/2]) // again, in another page
			delete(want, known[i/2])
		}
		delete(want, id)
		if len(page) >= 97 {
			require.NoError(t, s.MarkSeen(ctx, c, connectors.User, page))
			page = nil
		}
	}
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, page))
	require.NoError(t, s.MarkSeen(ctx, store.Cycle{Job: "job", ID: "2"}, connectors.User, known))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.Group, known))
	require.Equal(t, sorted(slices.Collect(maps.Keys(want))), unseenIDs(t, s, c, connectors.User))
}

// settledCycle: a job's settled cycle lasts until an object state of the
// job is written in any way, and only for that job.
func settledCycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	settled := func(job string) string {
		t.Helper()
		c, err := s.SettledCycle(ctx, job)
		require.NoError(t, err)
		return c
	}
	settle := func(c store.Cycle) {
		t.Helper()
		require.NoError(t, s.SettleCycle(ctx, c))
		require.Equal(t, c.ID, settled(c.Job))
	}
	require.Empty(t, settled("job"))
	put(t, s, "job", user("A", "tA"))
	settle(store.Cycle{Job: "job", ID: "1"})
	settle(store.Cycle{Job: "other", ID: "7"})
	settle(store.Cycle{Job: "job", ID: "2"})

	c := store.Cycle{Job: "job", ID: "3"}
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{item(1, "A")}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, []string{"A"}))
	require.NoError(t, s.SetWatermark(ctx, "job", connectors.User, "w"))
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G"}}))
	require.NoError(t, s.Record(ctx, c, []store.Record{{Seq: 1, Outcome: []byte(`{}`)}}))
	require.Equal(t, "2", settled("job"), "staging, marks, watermarks, source groups and outcomes alone write no object state")

	for name, write := range map[string]func() error{
		"Record": func() error {
			return s.Record(ctx, c, []store.Record{{Seq: 1, State: ptr(user("A", "tA2"))}})
		},
		"Record forgetting": func() error {
			return s.Record(ctx, c, []store.Record{{Forget: true, Type: connectors.User, SourceID: "A"}})
		},
		"PutObject": func() error { return s.PutObject(ctx, "job", user("B", "tB")) },
		"Reset":     func() error { return s.Reset(ctx, "job", store.ResetScope{Escrows: true}) },
	} {
		settle(store.Cycle{Job: "job", ID: "4"})
		require.NoError(t, write(), name)
		require.Empty(t, settled("job"), name)
		require.Equal(t, "7", settled("other"), name)
	}
}

func indexed(id, name string) store.IndexedObject {
	return store.IndexedObject{
		Object: connectors.TargetObject{ID: id, Active: true, Attributes: connectors.Attributes{"userName": name}},
		Keys:   []store.IndexKey{{Attribute: "userName", Value: name}, {Attribute: "externalId", Value: "x" + id}},
	}
}

func endCycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	kept := []store.Cycle{{Job: "job", ID: "2"}, {Job: "other", ID: "1"}}
	put(t, s, "job", user("A", "tA"))
	put(t, s, "other", user("A", "tA"))
	require.NoError(t, s.SetWatermark(ctx, "job", connectors.User, "w"))
	require.NoError(t, s.MarkPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G"}))
	for _, cy := range append(kept, c) {
		require.NoError(t, s.Stage(ctx, cy, []store.StagedItem{item(1, "A")}))
		require.NoError(t, s.MarkSeen(ctx, cy, connectors.User, []string{"A"}))
		require.NoError(t, s.AddToTargetIndex(ctx, cy, connectors.User, []store.IndexedObject{indexed("t1", "ada")}))
		require.NoError(t, s.CompleteTargetIndex(ctx, cy, connectors.User, 1))
	}

	require.NoError(t, s.EndCycle(ctx, c))
	require.Empty(t, stagedIDs(t, s, c, 0, 10))
	require.Equal(t, []string{"A"}, unseenIDs(t, s, c, connectors.User), "seen marks are gone")
	_, complete, err := s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete)
	found, err := s.LookupTargetIndex(ctx, c, connectors.User, []store.IndexKey{{Attribute: "userName", Value: "ada"}})
	require.NoError(t, err)
	require.Empty(t, found)

	for _, cy := range kept {
		require.Equal(t, []string{"1:A"}, stagedIDs(t, s, cy, 0, 10), "%+v", cy)
		require.Empty(t, unseenIDs(t, s, cy, connectors.User), "%+v", cy)
		n, complete, err := s.TargetIndexed(ctx, cy, connectors.User)
		require.NoError(t, err)
		require.True(t, complete, "%+v", cy)
		require.Equal(t, 1, n)
	}
	require.Equal(t, []string{"A"}, connectionIDs(t, s, "job", connectors.User), "connections outlive cycles")
	w, err := s.Watermark(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Equal(t, "w", w)
	pending, err := s.Pending(ctx, "job", store.MembershipWork, connectors.Group, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"G"}, pending, "pending work outlives cycles")

	// The last cycle left ends as the others did.
	for _, cy := range kept {
		require.NoError(t, s.EndCycle(ctx, cy))
		require.Empty(t, stagedIDs(t, s, cy, 0, 10))
		require.Equal(t, []string{"A"}, unseenIDs(t, s, cy, connectors.User))
		_, complete, err := s.TargetIndexed(ctx, cy, connectors.User)
		require.NoError(t, err)
		require.False(t, complete)
	}
	require.Equal(t, []string{"A"}, connectionIDs(t, s, "job", connectors.User))
}

func watermarks(t *testing.T, s store.Store) {
	ctx := t.Context()
	w, err := s.Watermark(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Empty(t, w)
	require.NoError(t, s.SetWatermark(ctx, "job", connectors.User, "w1"))
	require.NoError(t, s.SetWatermark(ctx, "job", connectors.User, "w2"))
	require.NoError(t, s.SetWatermark(ctx, "job", connectors.Group, "g1"))
	require.NoError(t, s.SetWatermark(ctx, "other", connectors.User, "o1"))
	for _, q := range []struct {
		job  string
		typ  connectors.ObjectType
		want string
	}{{"job", connectors.User, "w2"}, {"job", connectors.Group, "g1"}, {"other", connectors.User, "o1"}, {"other", connectors.Group, ""}} {
		w, err := s.Watermark(ctx, q.job, q.typ)
		require.NoError(t, err)
		require.Equal(t, q.want, w, "%+v", q)
	}
}

// fill gives a job state of every kind that Reset may clear.
func fill(t *testing.T, s store.Store, job string, now time.Time) {
	t.Helper()
	ctx := t.Context()
	o := escrowed("A", now.Add(-time.Minute))
	o.TargetID = "tA"
	put(t, s, job, o, user("B", "tB"))
	require.NoError(t, s.SetWatermark(ctx, job, connectors.User, "w"))
	require.NoError(t, s.SetWatermark(ctx, job, connectors.Group, "g"))
	require.NoError(t, s.PutSourceGroups(ctx, job, []store.SourceGroup{{ID: "G1", Name: "Staff", Members: []string{"A"}, Hash: "h"}}))
	require.NoError(t, s.MarkPending(ctx, job, store.ReferenceWork, connectors.User, []string{"A"}))
	require.NoError(t, s.Stage(ctx, store.Cycle{Job: job, ID: "1"}, []store.StagedItem{item(1, "A")}))
}

// state sums up what fill wrote that remains.
type state struct {
	Watermarks  []string
	Connections []string
	Due         []string
	Escrowed    bool
	Groups      []string
	Members     []string
	Pending     []string
	Staged      []string
}

func stateOf(t *testing.T, s store.Store, job string, now time.Time) state {
	t.Helper()
	ctx := t.Context()
	var st state
	for _, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		w, err := s.Watermark(ctx, job, typ)
		require.NoError(t, err)
		st.Watermarks = append(st.Watermarks, w)
	}
	st.Connections = connectionIDs(t, s, job, connectors.User)
	st.Due = dueIDs(t, s, job, now)
	f, err := s.Fingerprints(ctx, job, connectors.User, []string{"A"})
	require.NoError(t, err)
	st.Escrowed = f["A"].Escrow != nil
	st.Groups, err = s.FindSourceGroups(ctx, job, []string{"staff"})
	require.NoError(t, err)
	st.Members, err = s.SourceMembers(ctx, job, "G1")
	require.NoError(t, err)
	st.Pending, err = s.Pending(ctx, job, store.ReferenceWork, connectors.User, "", 10)
	require.NoError(t, err)
	st.Staged = stagedIDs(t, s, store.Cycle{Job: job, ID: "1"}, 0, 10)
	if len(st.Groups) == 0 {
		st.Groups = nil
	}
	if len(st.Members) == 0 {
		st.Members = nil
	}
	if len(st.Pending) == 0 {
		st.Pending = nil
	}
	return st
}

var filled = state{
	Watermarks:  []string{"w", "g"},
	Connections: []string{"A", "B"},
	Due:         []string{"A"},
	Escrowed:    true,
	Groups:      []string{"G1"},
	Members:     []string{"A"},
	Pending:     []string{"A"},
	Staged:      []string{"1:A"},
}

func resetCase(t *testing.T, s store.Store, scope store.ResetScope, want state) {
	now := time.Now()
	fill(t, s, "job", now)
	fill(t, s, "other", now)
	require.Equal(t, filled, stateOf(t, s, "job", now))
	require.NoError(t, s.Reset(t.Context(), "job", store.ResetScope{}))
	require.Equal(t, filled, stateOf(t, s, "job", now), "an empty scope clears nothing")
	require.NoError(t, s.Reset(t.Context(), "job", scope))
	require.Equal(t, want, stateOf(t, s, "job", now))
	require.Equal(t, filled, stateOf(t, s, "other", now), "other jobs keep theirs")
}

func resetWatermark(t *testing.T, s store.Store) {
	want := filled
	want.Watermarks = []string{"", ""}
	resetCase(t, s, store.ResetScope{Watermark: true}, want)
}

func resetEscrows(t *testing.T, s store.Store) {
	want := filled
	want.Due, want.Escrowed = nil, false
	resetCase(t, s, store.ResetScope{Escrows: true}, want)
}

func resetConnectorDataStore(t *testing.T, s store.Store) {
	want := filled
	want.Connections, want.Due, want.Escrowed, want.Groups, want.Members, want.Pending = nil, nil, false, nil, nil, nil
	resetCase(t, s, store.ResetScope{ConnectorDataStore: true}, want)
}

func sourceGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E2", "E1", "b", "B"}, Hash: "h1"},
		{ID: "G2", Name: "Everyone", Members: []string{"G1", "E3", "E1"}, Hash: "h2"},
		{ID: "G3", Name: "Empty", Hash: "h3"},
	}))
	require.NoError(t, s.PutSourceGroups(ctx, "other", []store.SourceGroup{{ID: "G1", Name: "Engineering", Members: []string{"X"}, Hash: "o1"}}))
	require.NoError(t, s.PutSourceGroups(ctx, "job", nil))

	members, err := s.SourceMembers(ctx, "job", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"B", "E1", "E2", "b"}, members, "sorted")
	members, err = s.SourceMembers(ctx, "job", "G3")
	require.NoError(t, err)
	require.Empty(t, members)

	parents, err := s.ParentGroups(ctx, "job", []string{"E1", "G1", "E9", "X"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"E1": {"G1", "G2"}, "G1": {"G2"}}, parents)
	parents, err = s.ParentGroups(ctx, "job", nil)
	require.NoError(t, err)
	require.Empty(t, parents)

	groups, err := s.GroupsAmong(ctx, "job", []string{"G1", "E1", "G3", "G9", "g1"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"G1": true, "G3": true}, groups)

	hashes, err := s.SourceGroupHashes(ctx, "job", []string{"G1", "G2", "G3", "G4"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"G1": "h1", "G2": "h2", "G3": "h3"}, hashes)

	// Putting a group again replaces its members; in one call the last wins.
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E4"}, Hash: "h4"},
		{ID: "G1", Name: "Engineers", Members: []string{"E3", "E3"}, Hash: "h5"},
	}))
	members, err = s.SourceMembers(ctx, "job", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"E3"}, members)
	hashes, err = s.SourceGroupHashes(ctx, "job", []string{"G1"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"G1": "h5"}, hashes)
	parents, err = s.ParentGroups(ctx, "job", []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"E1": {"G2"}}, parents)

	require.NoError(t, s.DeleteSourceGroups(ctx, "job", []string{"G2", "G9"}))
	require.NoError(t, s.DeleteSourceGroups(ctx, "job", nil))
	groups, err = s.GroupsAmong(ctx, "job", []string{"G1", "G2", "G3"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"G1": true, "G3": true}, groups)
	parents, err = s.ParentGroups(ctx, "job", []string{"E1", "G1"})
	require.NoError(t, err)
	require.Empty(t, parents, "a deleted group's memberships go with it")
	members, err = s.SourceMembers(ctx, "other", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"X"}, members, "jobs are apart")
}

func findSourceGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{
		{ID: "G1", Name: "Engineering"},
		{ID: "G2", Name: "Everyone"},
		{ID: "G3", Name: "ENGINEERING"},
		{ID: "g4", Name: "G1"},
		{ID: "G5", Name: "Ärzte"},
		{ID: "G6", Name: "ΣΥΜΒΟΥΛΙΟ"},
	}))
	require.NoError(t, s.PutSourceGroups(ctx, "other", []store.SourceGroup{{ID: "G9", Name: "Engineering"}}))
	for _, q := range []struct {
		keys []string
		want []string
	}{
		{[]string{"engineering"}, []string{"G1", "G3"}},
		{[]string{"eNgInEeRiNg", "nobody"}, []string{"G1", "G3"}},
		{[]string{"G2"}, []string{"G2"}},
		{[]string{"G1"}, []string{"G1", "g4"}},
		{[]string{"g2"}, nil},
		{[]string{"everyone", "G2", "Engineering"}, []string{"G1", "G2", "G3"}},
		{[]string{"ärzte", "συμβουλιο"}, []string{"G5", "G6"}},
		{[]string{"ÄRZTE"}, []string{"G5"}},
		{nil, nil},
	} {
		found, err := s.FindSourceGroups(ctx, "job", q.keys)
		require.NoError(t, err)
		if len(found) == 0 {
			found = nil
		}
		require.Equal(t, q.want, found, "keys %q: by ID, or by name in any case (beyond ASCII too), sorted, once each", q.keys)
	}
}

func forgetUnseenGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "7"}
	require.NoError(t, s.PutSourceGroups(ctx, "job", []store.SourceGroup{
		{ID: "G1", Members: []string{"E1"}}, {ID: "G2", Members: []string{"E1"}}, {ID: "G3", Members: []string{"E1"}}, {ID: "G0", Members: []string{"E1"}},
	}))
	require.NoError(t, s.PutSourceGroups(ctx, "other", []store.SourceGroup{{ID: "G1", Members: []string{"X"}}}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.Group, []string{"G2"}))
	require.NoError(t, s.MarkSeen(ctx, store.Cycle{Job: "job", ID: "8"}, connectors.Group, []string{"G3"}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, []string{"G1"}))

	gone, err := s.ForgetUnseenGroups(ctx, c)
	require.NoError(t, err)
	require.Equal(t, []string{"G0", "G1", "G3"}, gone, "sorted")
	parents, err := s.ParentGroups(ctx, "job", []string{"E1"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"E1": {"G2"}}, parents)
	members, err := s.SourceMembers(ctx, "other", "G1")
	require.NoError(t, err)
	require.Equal(t, []string{"X"}, members, "in this job only")

	gone, err = s.ForgetUnseenGroups(ctx, c)
	require.NoError(t, err)
	require.Empty(t, gone)
}

func pendingWork(t *testing.T, s store.Store) {
	ctx := t.Context()
	pending := func(job string, w store.Work, typ connectors.ObjectType, after string, limit int) []string {
		t.Helper()
		page, err := s.Pending(ctx, job, w, typ, after, limit)
		require.NoError(t, err)
		if len(page) == 0 {
			return nil
		}
		return page
	}
	require.NoError(t, s.MarkPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G3", "G1", "b", "G2", "G1", "B"}))
	require.NoError(t, s.MarkPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G2"}), "marking twice is harmless")
	require.NoError(t, s.MarkPending(ctx, "job", store.MembershipWork, connectors.Group, nil))
	require.NoError(t, s.MarkPending(ctx, "job", store.ReferenceWork, connectors.User, []string{"E1"}))
	require.NoError(t, s.MarkPending(ctx, "job", store.MembershipWork, connectors.User, []string{"E2"}))
	require.NoError(t, s.MarkPending(ctx, "other", store.MembershipWork, connectors.Group, []string{"G9"}))

	require.Equal(t, []string{"B", "G1"}, pending("job", store.MembershipWork, connectors.Group, "", 2))
	require.Equal(t, []string{"G2", "G3"}, pending("job", store.MembershipWork, connectors.Group, "G1", 2))
	require.Equal(t, []string{"b"}, pending("job", store.MembershipWork, connectors.Group, "G3", 2))
	require.Nil(t, pending("job", store.MembershipWork, connectors.Group, "b", 2))
	require.Equal(t, []string{"G2", "G3", "b"}, pending("job", store.MembershipWork, connectors.Group, "G10", 10), "after need not be marked")

	require.NoError(t, s.ClearPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G1", "G3", "absent"}))
	require.NoError(t, s.ClearPending(ctx, "job", store.MembershipWork, connectors.Group, nil))
	require.Equal(t, []string{"B", "G2", "b"}, pending("job", store.MembershipWork, connectors.Group, "", 10))
	require.Equal(t, []string{"E1"}, pending("job", store.ReferenceWork, connectors.User, "", 10), "each phase has its own list")
	require.Equal(t, []string{"E2"}, pending("job", store.MembershipWork, connectors.User, "", 10), "and each type")
	require.Equal(t, []string{"G9"}, pending("other", store.MembershipWork, connectors.Group, "", 10), "and each job")
	require.NoError(t, s.ClearPending(ctx, "job", store.ReferenceWork, connectors.User, []string{"E1"}))
	require.Nil(t, pending("job", store.ReferenceWork, connectors.User, "", 10))
}

func targetIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	_, complete, err := s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete)

	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{indexed("t1", "ada"), indexed("t2", "bob"), indexed("t3", "bob")}))
	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{indexed("t1", "ada")}), "listed twice")
	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, nil))
	_, complete, err = s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete, "not complete until said so")
	require.NoError(t, s.CompleteTargetIndex(ctx, c, connectors.User, 3))
	n, complete, err := s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.True(t, complete)
	require.Equal(t, 3, n)
	_, complete, err = s.TargetIndexed(ctx, c, connectors.Group)
	require.NoError(t, err)
	require.False(t, complete, "each type has its own index")

	found, err := s.LookupTargetIndex(ctx, c, connectors.User, []store.IndexKey{
		{Attribute: "userName", Value: "ada"}, {Attribute: "userName", Value: "bob"}, {Attribute: "userName", Value: "eve"}, {Attribute: "externalId", Value: "xt2"},
	})
	require.NoError(t, err)
	require.Len(t, found, 3)
	require.Equal(t, []connectors.TargetObject{indexed("t1", "ada").Object}, found[store.IndexKey{Attribute: "userName", Value: "ada"}])
	require.Len(t, found[store.IndexKey{Attribute: "userName", Value: "bob"}], 2)
	require.Equal(t, "t2", found[store.IndexKey{Attribute: "externalId", Value: "xt2"}][0].ID)

	other, err := s.LookupTargetIndex(ctx, store.Cycle{Job: "job", ID: "2"}, connectors.User, []store.IndexKey{{Attribute: "userName", Value: "ada"}})
	require.NoError(t, err)
	require.Empty(t, other, "indexes belong to their cycle")

	require.NoError(t, s.ResetTargetIndex(ctx, c, connectors.User))
	_, complete, err = s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete)
	found, err = s.LookupTargetIndex(ctx, c, connectors.User, []store.IndexKey{{Attribute: "userName", Value: "ada"}})
	require.NoError(t, err)
	require.Empty(t, found)

	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{indexed("t1", "ada")}))
	require.NoError(t, s.CompleteTargetIndex(ctx, c, connectors.User, 1))
	require.NoError(t, s.EndCycle(ctx, c))
	_, complete, err = s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete, "the cycle's end drops its index")
}

func targetIndexLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{indexed("t3", "bob"), indexed("t2", "bob"), indexed("t1", "Bob")}))
	// A group with the same target ID and key is another type's.
	group := indexed("t2", "bob")
	group.Object.Attributes["kind"] = "group"
	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.Group, []store.IndexedObject{group}))
	require.NoError(t, s.AddToTargetIndex(ctx, store.Cycle{Job: "other", ID: "1"}, connectors.User, []store.IndexedObject{indexed("o1", "bob")}))
	// An object listed again replaces the copy listed before.
	again := indexed("t2", "bob")
	again.Object.Attributes["title"], again.Object.Active = "Boss", false
	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{again}))

	bob := store.IndexKey{Attribute: "userName", Value: "bob"}
	found, err := s.LookupTargetIndex(ctx, c, connectors.User, []store.IndexKey{bob, bob, {Attribute: "externalId", Value: "bob"}, {Attribute: "displayName", Value: "bob"}})
	require.NoError(t, err)
	require.Equal(t, map[store.IndexKey][]connectors.TargetObject{bob: {again.Object, indexed("t3", "bob").Object}}, found,
		"values match exactly; a key asked twice is answered once, its objects in target ID order")

	found, err = s.LookupTargetIndex(ctx, c, connectors.Group, []store.IndexKey{bob})
	require.NoError(t, err)
	require.Equal(t, map[store.IndexKey][]connectors.TargetObject{bob: {group.Object}}, found)
	found, err = s.LookupTargetIndex(ctx, c, connectors.User, nil)
	require.NoError(t, err)
	require.Empty(t, found)
}

// Workers push different batches of one cycle at once, and overlap in the
// IDs they mark and the groups they put.
func concurrentBatches(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Cycle{Job: "job", ID: "1"}
	const workers, batch = 4, 100
	var items []store.StagedItem
	var all []string
	for i := range workers * batch {
		id := fmt.Sprintf("E%04d", i)
		items = append(items, item(i+1, id))
		all = append(all, id)
	}
	require.NoError(t, s.Stage(ctx, c, items))

	memberSets := make([][]string, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		memberSets[w] = []string{fmt.Sprint("W", w), "shared"}
		wg.Go(func() {
			errs <- func() error {
				mine := items[w*batch : (w+1)*batch]
				for part := range slices.Chunk(mine, 25) {
					var recs []store.Record
					for _, it := range part {
						st := user(it.Object.ID, "t"+it.Object.ID)
						recs = append(recs, store.Record{Seq: it.Seq, Outcome: []byte(`"done"`), State: &st})
					}
					if err := s.Record(ctx, c, recs); err != nil {
						return err
					}
				}
				seen := slices.Clone(all)
				if w%2 == 1 {
					slices.Reverse(seen)
				}
				if err := s.MarkSeen(ctx, c, connectors.User, seen); err != nil {
					return err
				}
				if err := s.MarkPending(ctx, "job", store.MembershipWork, connectors.Group, []string{"G1", "G2", fmt.Sprint("G", w+10)}); err != nil {
					return err
				}
				for range 5 {
					if err := s.PutSourceGroups(ctx, "job", []store.SourceGroup{{ID: "G1", Members: memberSets[w]}, {ID: "G2", Members: memberSets[w]}}); err != nil {
						return err
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	require.Equal(t, all, connectionIDs(t, s, "job", connectors.User))
	items, err := s.Staged(ctx, c, 1, workers*batch)
	require.NoError(t, err)
	for _, it := range items {
		require.Equal(t, `"done"`, string(it.Outcome), it.Seq)
	}
	require.Empty(t, unseenIDs(t, s, c, connectors.User))
	pending, err := s.Pending(ctx, "job", store.MembershipWork, connectors.Group, "", 100)
	require.NoError(t, err)
	require.Equal(t, []string{"G1", "G10", "G11", "G12", "G13", "G2"}, pending)
	for _, g := range []string{"G1", "G2"} {
		members, err := s.SourceMembers(ctx, "job", g)
		require.NoError(t, err)
		require.Contains(t, memberSets, members, "one worker's members, not a mix")
	}
}

// BenchRecord measures Record with batches of 500 object states, as a push
// step writes them.
func BenchRecord(b *testing.B, s store.Store) {
	ctx := b.Context()
	c := store.Cycle{Job: "bench", ID: "1"}
	const batch = 500
	items := make([]store.StagedItem, 0, batch*b.N)
	// Items, entries and states the size of a created user's.
	for i := range batch * b.N {
		items = append(items, store.StagedItem{Seq: i + 1, Type: connectors.User, Object: connectors.Object{ID: fmt.Sprint("E", i), Locator: fmt.Sprint("row ", i+2),
			Attributes: connectors.Attributes{"employeeId": fmt.Sprint("E", i), "givenName": "User", "surname": fmt.Sprint("E", i), "mail": fmt.Sprint("E", i, "@example.com"),
				"department": "Engineering", "jobTitle": "Engineer", "manager": "E1", "status": "Active", "city": "Springfield", "country": "US"}}})
	}
	entry := `{"job":"bench","cycleId":"1","changeId":"1-%d","objectType":"User","sourceId":"%s","targetId":"t-%s","displayName":"User %s",` +
		`"action":"Add","status":"Success","locator":"row %d","time":"2030-01-02T03:04:05.123456789Z","durationMs":3,"modified":[` +
		`{"name":"active","new":"true"},{"name":"department","new":"Engineering"},{"name":"displayName","new":"User %s"},` +
		`{"name":"externalId","new":"%s"},{"name":"familyName","new":"%s"},{"name":"givenName","new":"User"},` +
		`{"name":"title","new":"Engineer"},{"name":"userName","new":"%s@example.com"}]}`
	require.NoError(b, s.Stage(ctx, c, items))
	records := func(n int) []store.Record {
		recs := make([]store.Record, batch)
		for k := range recs {
			seq := n*batch + k + 1
			id := fmt.Sprint("E", seq-1)
			recs[k] = store.Record{Seq: seq, Outcome: fmt.Appendf(nil, entry, seq, id, id, id, seq+1, id, id, id, id), State: &store.ObjectState{
				Type: connectors.User, SourceID: id, SourceHash: "3f2a9c0d1e", TargetID: "t-" + id, Active: true,
				Pushed: connectors.Attributes{"userName": id + "@example.com", "displayName": "User " + id, "givenName": "User",
					"familyName": id, "department": "Engineering", "title": "Engineer", "active": true},
				References: map[string]string{"manager": "E1"},
				UpdatedAt:  time.Now(),
			}}
		}
		return recs
	}
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		recs := records(n)
		b.StartTimer()
		require.NoError(b, s.Record(ctx, c, recs))
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "objects/s")
}

func referrers(t *testing.T, s store.Store) {
	ctx := t.Context()
	ref := func(typ connectors.ObjectType, id string, refs map[string]string) {
		put(t, s, "job", store.ObjectState{Type: typ, SourceID: id, TargetID: "t" + id, References: refs})
	}
	ref(connectors.User, "boss", nil)
	ref(connectors.User, "r2", map[string]string{"manager": "boss"})
	ref(connectors.User, "r1", map[string]string{"manager": "boss", "secretary": "sec"})
	ref(connectors.User, "r3", map[string]string{"manager": "other"})
	ref(connectors.User, "r4", map[string]string{"manager": ""})
	ref(connectors.Group, "g1", map[string]string{"owner": "sec"})
	put(t, s, "other", store.ObjectState{Type: connectors.User, SourceID: "x", References: map[string]string{"manager": "boss"}})

	got, err := s.Referrers(ctx, "job", []string{"boss", "sec"})
	require.NoError(t, err)
	require.Equal(t, map[connectors.ObjectType][]string{connectors.User: {"r1", "r2"}, connectors.Group: {"g1"}}, got,
		"each referrer once, sorted, of this job only")
	got, err = s.Referrers(ctx, "job", []string{"nobody"})
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.Referrers(ctx, "job", nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func ptr[T any](v T) *T { return &v }
