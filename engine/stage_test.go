package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/engine"
	"github.com/openprovisioning/provisioner/store"
)

// deltaSource is a memory source that reports changes only.
type deltaSource struct{ memorySource }

func (*deltaSource) ChangeDetection() connectors.ChangeDetection { return connectors.Delta }

// A delta read stages each escrowed object once: one it returned (changed,
// or due) in its page, the others whose retry is due after the read —
// also when the read is resumed by a fresh stager, as a retried fetch
// is, which keeps nothing of the pages read before.
func TestDeltaEscrowsStagedOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	src := &deltaSource{}
	e := engine.New(engine.Config{Store: w.st, Job: &w.job, Source: src, Target: w.target})
	c := store.Cycle{Job: w.job.Name, ID: "1"}
	due := time.Now().Add(-time.Minute)
	for _, id := range []string{"returned", "left", "waiting"} {
		retry := due
		if id == "waiting" {
			retry = time.Now().Add(time.Hour)
		}
		require.NoError(t, w.st.PutObject(ctx, w.job.Name, store.ObjectState{Type: connectors.User, SourceID: id, SourceHash: "old",
			Escrow: &store.Escrow{Attempts: 1, RetryAfter: retry, Code: "ServerError", Object: user(id, id+"@example.com", "before")}}))
	}
	step := engine.ReadStep{Type: connectors.User, Object: 0}

	st, err := e.Stager(ctx, c, false, step)
	require.NoError(t, err)
	n, err := st.Page(ctx, []connectors.Object{user("returned", "returned@example.com", "after")}, 0)
	require.NoError(t, err)
	require.Equal(t, 1, n.Staged)
	escrows, err := st.DueEscrows(ctx, n.Staged)
	require.NoError(t, err)
	require.Equal(t, 1, escrows.Staged, "only the due escrow the read did not return")
	require.Equal(t, 1, escrows.Unlinked, "counted as the read would have counted it")

	resumed, err := e.Stager(ctx, c, false, step)
	require.NoError(t, err)
	require.NoError(t, w.st.TruncateStage(ctx, c, n.Staged))
	escrows, err = resumed.DueEscrows(ctx, n.Staged)
	require.NoError(t, err)
	require.Equal(t, 1, escrows.Staged, "a resumed read does not stage again what its pages staged")

	items, err := w.st.Staged(ctx, c, 1, 10)
	require.NoError(t, err)
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Object.ID)
	}
	require.Equal(t, []string{"returned", "left"}, ids)
	require.Equal(t, "before", items[1].Object.Attributes["title"], "the escrowed record is retried")
}

// An object its source did not build, saying the read held it unchanged,
// fails the page when the read holds no such record, rather than being
// staged empty: an empty object would clear the account's values.
func TestUnbuiltObjectIsNeverStaged(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := engine.New(engine.Config{Store: w.st, Job: &w.job, Source: &memorySource{}, Target: w.target})
	c := store.Cycle{Job: w.job.Name, ID: "1"}
	st, err := e.Stager(ctx, c, false, engine.ReadStep{Type: connectors.User, Object: 0})
	require.NoError(t, err)
	_, err = st.Page(ctx, []connectors.Object{user("a", "a@example.com", "A"), {ID: "b", RecordHash: 7, Unchanged: true}}, 0)
	require.ErrorContains(t, err, "did not build")
	items, err := w.st.Staged(ctx, c, 1, 10)
	require.NoError(t, err)
	require.Empty(t, items)
}

// A read asks its source to leave unchanged records unbuilt only where a
// record alone decides its object's outcome: not in a job that syncs only
// assigned objects, whose assignment comes from groups, nor for groups,
// nor without digests.
func TestUnchangedIsAskedOnlyWhereTheRecordDecides(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	digests := engine.NewReadDigests(t.TempDir(), func(string, error) {})
	defer digests.Close()
	c := store.Cycle{Job: w.job.Name, ID: "1"}
	users := engine.ReadStep{Type: connectors.User, Object: 0}
	stager := func(d *engine.ReadDigests, step engine.ReadStep) *engine.Stager {
		st, err := engine.New(engine.Config{Store: w.st, Job: &w.job, Source: w.source, Target: w.target, Digests: d}).Stager(ctx, c, false, step)
		require.NoError(t, err)
		return st
	}
	ask := stager(digests, users).Unchanged()
	require.NotNil(t, ask)
	require.False(t, ask("E1", 7), "nothing is held before the last read's digest is loaded")
	require.Nil(t, stager(nil, users).Unchanged(), "no digests")
	require.Nil(t, stager(digests, engine.ReadStep{Type: connectors.Group, Object: -1}).Unchanged(), "groups")
	w.job.Options.AssignedGroups = []string{"Engineering"}
	require.Nil(t, stager(digests, users).Unchanged(), "assignment comes from groups")
}
