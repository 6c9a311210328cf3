package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// unchangedSource is a snapshot source, registered as any connector is,
// whose data never changes: a read given a watermark is answered
// Unchanged, as a report server answers 304.
type unchangedSource struct{ snapshotSource }

// snapshotSource is what the test snapshot sources have in common: a
// configuration with nothing to check, read as snapshots.
type snapshotSource struct{}

func (snapshotSource) Validate() error { return nil }

func (snapshotSource) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

func (snapshotSource) Close() error { return nil }

func init() {
	connectors.RegisterSource("test-unchanged", func() connectors.SourceConfig { return &unchangedSource{} })
}

func (c unchangedSource) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	return c, nil
}

func (unchangedSource) Read(_ context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	if req.Since == "" {
		return connectors.Page{}, connectors.SnapshotChanged("read test", "a full read was not expected")
	}
	return connectors.Page{Unchanged: true, Watermark: req.Since}, nil
}

// An unchanged snapshot reads nothing, so nothing is absent: no linked
// object is staged for deprovisioning and the deletion guard holds
// nothing; only an escrowed object whose retry is due is staged again.
func TestUnchangedSnapshotStagesOnlyDueEscrows(t *testing.T) {
	w := newMatchWorld(t)
	job := w.job
	job.Source = config.Source{Connector: &unchangedSource{}}
	ctx := context.Background()
	for _, id := range []string{"ada", "grace", "edsger"} {
		require.NoError(t, w.st.PutObject(ctx, job.Name, store.ObjectState{Type: connectors.User, SourceID: id, TargetID: "t-" + id, Active: true}))
	}
	retry := connectors.Object{ID: "barbara", Attributes: connectors.Attributes{"userName": "barbara"}}
	require.NoError(t, w.st.PutObject(ctx, job.Name, store.ObjectState{Type: connectors.User, SourceID: "barbara",
		Escrow: &store.Escrow{Attempts: 1, RetryAfter: time.Now().Add(-time.Minute), Code: "Timeout", Object: retry}}))
	require.NoError(t, w.st.SetWatermark(ctx, job.Name, connectors.User, "v1"))

	val, err := w.env.ExecuteActivity(w.acts.FetchChanges, activities.FetchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: "2"}})
	require.NoError(t, err)
	var res activities.FetchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, 1, res.Staged, "the due escrow alone")
	require.Zero(t, res.Deleted)
	require.Zero(t, res.Removals)
	require.Empty(t, res.Hold)
	require.Equal(t, "v1", res.Watermarks[connectors.User])
}
