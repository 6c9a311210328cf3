package activities_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// replacedSource is a snapshot source, registered as any connector is,
// whose data is replaced once while its first read is on its second page.
type replacedSource struct {
	Users []string `json:"users"`
	// Disabled reads every user as disabled in the source.
	Disabled bool `json:"disabled,omitempty"`
}

// replaced records that the one replacement happened, by source.
var replaced sync.Map

func init() {
	connectors.RegisterSource("test-replaced", func() connectors.SourceConfig { return &replacedSource{} })
}

func (c replacedSource) Validate() error { return nil }

func (c replacedSource) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	return c, nil
}

func (c replacedSource) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

// Read returns one user a page.
func (c replacedSource) Read(_ context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	i, _ := strconv.Atoi(req.Cursor)
	if i == 1 {
		if _, done := replaced.LoadOrStore(fmt.Sprint(c.Users), true); !done {
			return connectors.Page{}, connectors.SnapshotChanged("read test", "replaced")
		}
	}
	page := connectors.Page{Objects: []connectors.Object{{ID: c.Users[i], Attributes: connectors.Attributes{"userName": c.Users[i]}, Disabled: c.Disabled}}}
	if i+1 < len(c.Users) {
		page.Cursor = strconv.Itoa(i + 1)
	}
	return page, nil
}

func (c replacedSource) Close() error { return nil }

// A read overtaken by a new snapshot, whatever the connector, is read
// again from the start: every object is staged once.
func TestReplacedSnapshotIsReadAgain(t *testing.T) {
	w := newMatchWorld(t)
	job := w.job
	job.Source = config.Source{Connector: &replacedSource{Users: []string{"ada", "grace", "edsger"}}}
	val, err := w.env.ExecuteActivity(w.acts.FetchChanges, activities.FetchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: "1"}, Initial: true})
	require.NoError(t, err)
	var res activities.FetchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, 3, res.Read)
	require.Equal(t, 3, res.Staged)
}

// What a read counted before it started again is not counted twice: the
// deletion guard weighs each removal once.
func TestReplacedSnapshotCountsRemovalsOnce(t *testing.T) {
	w := newMatchWorld(t)
	job := w.job
	users := []string{"linus", "barbara", "donald"}
	for _, id := range users {
		require.NoError(t, w.st.PutObject(context.Background(), job.Name, store.ObjectState{Type: connectors.User, SourceID: id, TargetID: "t-" + id, Active: true}))
	}
	job.Source = config.Source{Connector: &replacedSource{Users: users, Disabled: true}}
	val, err := w.env.ExecuteActivity(w.acts.FetchChanges, activities.FetchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: "1"}, Initial: true})
	require.NoError(t, err)
	var res activities.FetchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, 3, res.Staged)
	require.Equal(t, 3, res.Removals, "each disabled account counted once")
	require.Empty(t, res.Hold, "a full read of disabled accounts is not an empty read")
}
