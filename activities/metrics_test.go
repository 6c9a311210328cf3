package activities_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/metrics/metricstest"
	"github.com/openprovisioning/provisioner/store"
)

// A batch counts its entries by job, object type, action and status, a
// dry run's not at all; the escrowed objects are counted as the cycle ends.
func TestBatchesCountTheirObjects(t *testing.T) {
	w := newMatchWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.Method == http.MethodPost && bytes.Contains(body, []byte("refused@example.com")) {
				rw.Header().Set("Content-Type", "application/scim+json")
				rw.WriteHeader(http.StatusBadRequest)
				_, _ = rw.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"refused"}`))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(rw, r)
		})
	})
	exp, err := metrics.NewExporter(func(err error) { t.Error(err) })
	require.NoError(t, err)
	w.acts.Metrics = exp.Handler
	srv := httptest.NewServer(exp.HTTPHandler())
	t.Cleanup(srv.Close)

	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"}, [3]string{"E2", "bob@example.com", "Engineer"}, [3]string{"E3", "refused@example.com", "Engineer"})
	_, err = w.env.ExecuteActivity(w.acts.ProvisionBatch, activities.BatchInput{Job: w.job, Cycle: w.cycle, From: 1, To: 3})
	require.NoError(t, err)
	_, err = w.env.ExecuteActivity(w.acts.FinishCycle, activities.FinishInput{Job: w.job.Name, Cycle: w.cycle})
	require.NoError(t, err)

	dry := w.job
	dry.Options.DryRun = true
	cycle := store.Cycle{Job: dry.Name, ID: "2"}
	w.cycle = cycle
	w.staged = 0
	w.stage(t, [3]string{"E4", "cy@example.com", "Engineer"})
	_, err = w.env.ExecuteActivity(w.acts.ProvisionBatch, activities.BatchInput{Job: dry, Cycle: cycle, From: 1, To: 1})
	require.NoError(t, err)

	s := metricstest.Get(t, srv.URL)
	objects := func(action, status string) float64 {
		v, _ := s.Value(metrics.Objects+"_total", map[string]string{metrics.LabelJob: "match", metrics.LabelObjectType: "User", metrics.LabelAction: action, metrics.LabelStatus: status})
		return v
	}
	require.EqualValues(t, 2, objects("Create", "Success"), "the dry run's create is not counted")
	require.EqualValues(t, 1, objects("Create", "Failure"))
	escrowed, ok := s.Value(metrics.EscrowedObjects, map[string]string{metrics.LabelJob: "match", metrics.LabelObjectType: "User"})
	require.True(t, ok)
	require.EqualValues(t, 1, escrowed)
	groups, ok := s.Value(metrics.EscrowedObjects, map[string]string{metrics.LabelJob: "match", metrics.LabelObjectType: "Group"})
	require.True(t, ok)
	require.Zero(t, groups)
	counted, ok := s.Value(metrics.EscrowCounted, map[string]string{metrics.LabelJob: "match"})
	require.True(t, ok)
	require.Positive(t, counted)
}
