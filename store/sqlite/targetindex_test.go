package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

func TestTargetIndex(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	c := store.Cycle{Job: "job", ID: "1"}
	user := func(id, name string) store.IndexedObject {
		return store.IndexedObject{
			Object: connectors.TargetObject{ID: id, Active: true, Attributes: connectors.Attributes{"userName": name}},
			Keys:   []store.IndexKey{{Attribute: "userName", Value: name}, {Attribute: "externalId", Value: "x" + id}},
		}
	}
	_, complete, err := s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete)

	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{user("t1", "ada"), user("t2", "bob"), user("t3", "bob")}))
	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{user("t1", "ada")}), "listed twice")
	require.NoError(t, s.CompleteTargetIndex(ctx, c, connectors.User, 3))
	n, complete, err := s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.True(t, complete)
	require.Equal(t, 3, n)

	found, err := s.LookupTargetIndex(ctx, c, connectors.User, []store.IndexKey{
		{Attribute: "userName", Value: "ada"}, {Attribute: "userName", Value: "bob"}, {Attribute: "userName", Value: "eve"}, {Attribute: "externalId", Value: "xt2"},
	})
	require.NoError(t, err)
	require.Len(t, found, 3)
	require.Equal(t, []connectors.TargetObject{user("t1", "ada").Object}, found[store.IndexKey{Attribute: "userName", Value: "ada"}])
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

	require.NoError(t, s.AddToTargetIndex(ctx, c, connectors.User, []store.IndexedObject{user("t1", "ada")}))
	require.NoError(t, s.CompleteTargetIndex(ctx, c, connectors.User, 1))
	require.NoError(t, s.EndCycle(ctx, c))
	_, complete, err = s.TargetIndexed(ctx, c, connectors.User)
	require.NoError(t, err)
	require.False(t, complete, "the cycle's end drops its index")
}

func TestFingerprints(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	retry := time.Now().Add(time.Hour)
	require.NoError(t, s.PutObject(ctx, "job", store.ObjectState{Type: connectors.User, SourceID: "A", SourceHash: "ha", TargetID: "tA", Pushed: connectors.Attributes{"userName": "a"}}))
	require.NoError(t, s.PutObject(ctx, "job", store.ObjectState{Type: connectors.User, SourceID: "B", SourceHash: "hb",
		Escrow: &store.Escrow{Attempts: 2, RetryAfter: retry, Object: connectors.Object{ID: "B"}}}))
	ids := []string{"A", "B"}
	for i := range 1200 {
		ids = append(ids, fmt.Sprint("absent", i))
	}
	got, err := s.Fingerprints(ctx, "job", connectors.User, ids)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, store.Fingerprint{SourceHash: "ha", Linked: true}, got["A"])
	require.Equal(t, "hb", got["B"].SourceHash)
	require.False(t, got["B"].Linked)
	require.Equal(t, 2, got["B"].Escrow.Attempts)
	require.Equal(t, "B", got["B"].Escrow.Object.ID)
}
