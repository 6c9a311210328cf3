package activities_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/store"
)

// pagedSource is a snapshot source of one user a page that reports, on
// reading, when the read of its second page begins.
type pagedSource struct {
	snapshotSource
	Users []string `json:"users"`
}

// secondPage is told when a pagedSource begins to read its second page.
var secondPage = make(chan struct{}, 1)

func init() {
	connectors.RegisterSource("test-paged", func() connectors.SourceConfig { return &pagedSource{} })
}

func (c pagedSource) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	return c, nil
}

func (c pagedSource) Read(_ context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	i, _ := strconv.Atoi(req.Cursor)
	if i == 1 {
		secondPage <- struct{}{}
	}
	page := connectors.Page{Objects: []connectors.Object{{ID: c.Users[i], Attributes: connectors.Attributes{"userName": c.Users[i]}}}}
	if i+1 < len(c.Users) {
		page.Cursor = strconv.Itoa(i + 1)
	}
	return page, nil
}

// waitingStore compares the first page only once the source reads the
// second.
type waitingStore struct {
	store.Store
	first bool
}

func (s *waitingStore) Fingerprints(ctx context.Context, job string, t connectors.ObjectType, ids []string) (map[string]store.Fingerprint, error) {
	if !s.first {
		s.first = true
		select {
		case <-secondPage:
		case <-time.After(10 * time.Second):
			return nil, errors.New("the second page was not read while the first was compared")
		}
	}
	return s.Store.Fingerprints(ctx, job, t, ids)
}

// The next page is read while a page is compared with the store, so that
// reading the source and comparing use two cores.
func TestFetchReadsTheNextPageWhileComparing(t *testing.T) {
	w := newMatchWorld(t)
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	acts := activities.New(&waitingStore{Store: w.st}, log)
	t.Cleanup(func() { acts.Connections.Close() })
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	job := w.job
	job.Source = config.Source{Connector: &pagedSource{Users: []string{"ada", "grace", "edsger"}}}
	val, err := env.ExecuteActivity(acts.FetchChanges, activities.FetchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: "1"}, Initial: true})
	require.NoError(t, err)
	var res activities.FetchResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, 3, res.Read)
	require.Equal(t, 3, res.Staged)
}
