package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestObjectsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	o := store.ObjectState{Type: connectors.User, SourceID: "E1", SourceHash: "h1", TargetID: "t1", Active: true,
		Pushed: connectors.Attributes{"userName": "a@example.com"}, Members: []string{"t2"}}
	require.NoError(t, s.PutObject(ctx, "job", o))
	require.NoError(t, s.PutObject(ctx, "other", store.ObjectState{Type: connectors.User, SourceID: "E1", SourceHash: "x"}))

	got, err := s.Objects(ctx, "job", connectors.User, []string{"E1", "E2"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "t1", got["E1"].TargetID)
	require.Equal(t, "a@example.com", got["E1"].Pushed["userName"])
	require.Equal(t, []string{"t2"}, got["E1"].Members)
	require.True(t, got["E1"].Active)

	found, ok, err := s.LookupTarget(ctx, "job", connectors.User, "t1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "E1", found.SourceID)
}

func TestObjectsManyIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var ids []string
	var recs []store.Record
	for i := 0; i < 1200; i++ {
		id := "E" + time.Duration(i).String()
		ids = append(ids, id)
		recs = append(recs, store.Record{State: &store.ObjectState{Type: connectors.User, SourceID: id, SourceHash: "h"}})
	}
	require.NoError(t, s.Record(ctx, store.Cycle{Job: "job", ID: "1"}, recs))
	got, err := s.Objects(ctx, "job", connectors.User, ids)
	require.NoError(t, err)
	require.Len(t, got, 1200)
}

func TestStagingAndDeletionDetection(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := store.Cycle{Job: "job", ID: "7"}
	for _, id := range []string{"A", "B", "C"} {
		require.NoError(t, s.PutObject(ctx, "job", store.ObjectState{Type: connectors.User, SourceID: id, TargetID: "t" + id}))
	}
	require.NoError(t, s.Stage(ctx, c, []store.StagedItem{
		{Seq: 1, Type: connectors.User, Object: connectors.Object{ID: "A"}},
		{Seq: 2, Type: connectors.User, Object: connectors.Object{ID: "B", Attributes: connectors.Attributes{"x": "y"}}},
		{Seq: 3, Type: connectors.User, Object: connectors.Object{ID: "D"}},
	}))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, []string{"A", "B", "D"}))

	var unseen []string
	require.NoError(t, s.Unseen(ctx, c, connectors.User, func(o store.ObjectState) error {
		unseen = append(unseen, o.SourceID)
		return nil
	}))
	require.Equal(t, []string{"C"}, unseen)

	require.NoError(t, s.TruncateStage(ctx, c, 2))
	items, err := s.Staged(ctx, c, 1, 10)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, "y", items[1].Object.Attributes["x"])

	require.NoError(t, s.Record(ctx, c, []store.Record{
		{Seq: 1, Outcome: []byte(`{"action":"Update"}`), State: &store.ObjectState{Type: connectors.User, SourceID: "A", TargetID: "tA", SourceHash: "new"}},
		{Seq: 2, Outcome: []byte(`{"action":"Delete"}`), Forget: true, Type: connectors.User, SourceID: "B"},
	}))
	items, err = s.Staged(ctx, c, 1, 2)
	require.NoError(t, err)
	require.JSONEq(t, `{"action":"Update"}`, string(items[0].Outcome))
	got, err := s.Objects(ctx, "job", connectors.User, []string{"A", "B"})
	require.NoError(t, err)
	require.Equal(t, "new", got["A"].SourceHash)
	require.NotContains(t, got, "B")

	require.NoError(t, s.EndCycle(ctx, c))
	items, err = s.Staged(ctx, c, 1, 10)
	require.NoError(t, err)
	require.Empty(t, items)
}

func TestEscrowsAndReset(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now()
	due := store.ObjectState{Type: connectors.User, SourceID: "A", Escrow: &store.Escrow{Attempts: 1, RetryAfter: now.Add(-time.Minute), Object: connectors.Object{ID: "A"}}}
	later := store.ObjectState{Type: connectors.User, SourceID: "B", Escrow: &store.Escrow{Attempts: 2, RetryAfter: now.Add(time.Hour), Object: connectors.Object{ID: "B"}}}
	require.NoError(t, s.PutObject(ctx, "job", due))
	require.NoError(t, s.PutObject(ctx, "job", later))
	var ids []string
	require.NoError(t, s.DueEscrows(ctx, "job", connectors.User, now, func(o store.ObjectState) error {
		ids = append(ids, o.SourceID)
		require.Equal(t, 1, o.Escrow.Attempts)
		return nil
	}))
	require.Equal(t, []string{"A"}, ids)

	require.NoError(t, s.SetWatermark(ctx, "job", connectors.User, "w1"))
	w, err := s.Watermark(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Equal(t, "w1", w)

	require.NoError(t, s.Reset(ctx, "job", store.ResetScope{Watermark: true, Escrows: true}))
	w, err = s.Watermark(ctx, "job", connectors.User)
	require.NoError(t, err)
	require.Empty(t, w)
	got, err := s.Objects(ctx, "job", connectors.User, []string{"A", "B"})
	require.NoError(t, err)
	require.Nil(t, got["B"].Escrow)
	require.Len(t, got, 2)

	require.NoError(t, s.Reset(ctx, "job", store.ResetScope{ConnectorDataStore: true}))
	got, err = s.Objects(ctx, "job", connectors.User, []string{"A", "B"})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestMarkSeenManyIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := store.Cycle{Job: "job", ID: "1"}
	var ids []string
	for i := 0; i < 1200; i++ {
		id := fmt.Sprint("E", i)
		ids = append(ids, id)
		require.NoError(t, s.PutObject(ctx, "job", store.ObjectState{Type: connectors.User, SourceID: id}))
	}
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, ids[1:]))
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, ids[:2]), "marking twice is harmless")
	require.NoError(t, s.MarkSeen(ctx, c, connectors.User, nil))
	var unseen []string
	require.NoError(t, s.Unseen(ctx, c, connectors.User, func(o store.ObjectState) error {
		unseen = append(unseen, o.SourceID)
		return nil
	}))
	require.Empty(t, unseen)
}
