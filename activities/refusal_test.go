package activities_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
)

// One account the target protects (a 403 on its writes) fails alone: it is
// escrowed with the target's reason as InsufficientRights, not as rejected
// credentials, and the rest of the batch is provisioned.
func TestProtectedAccountFailsAlone(t *testing.T) {
	var protected atomic.Value
	w := newMatchWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if id, _ := protected.Load().(string); id != "" && r.Method != http.MethodGet && strings.HasSuffix(r.URL.Path, "/Users/"+id) {
				rw.Header().Set("Content-Type", "application/scim+json")
				rw.WriteHeader(http.StatusForbidden)
				_, _ = rw.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"the account is protected"}`))
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	admin := w.existing(t, connectors.Attributes{"userName": "admin@example.com", "title": "Administrator"})
	protected.Store(admin)
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"}, [3]string{"E2", "admin@example.com", "Engineer"}, [3]string{"E3", "cy@example.com", "Engineer"})
	entries := w.provision(t)

	e := entries["E2"]
	require.Equal(t, audit.Failure, e.Status)
	require.Equal(t, string(connectors.KindForbidden), e.ErrorCode)
	require.Contains(t, e.Reason, "the account is protected")
	for _, id := range []string{"E1", "E3"} {
		require.Equal(t, audit.Success, entries[id].Status, entries[id].Reason)
		require.Equal(t, audit.Create, entries[id].Action)
	}
	states, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{"E1", "E2", "E3"})
	require.NoError(t, err)
	require.NotNil(t, states["E2"].Escrow, "escrowed, to be tried again in a later cycle")
	require.Equal(t, string(connectors.KindForbidden), states["E2"].Escrow.Code)
	require.Contains(t, states["E2"].Escrow.Reason, "the account is protected")
	require.True(t, states["E1"].Linked())
	require.True(t, states["E3"].Linked())
}

// A source that refuses the job's credentials fails the fetch at once,
// without retries, as a refusal the workflow quarantines the job for.
func TestRefusedSourceIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	r := newRig(t, "TEST_REFUSED_SOURCE_TOKEN", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			next.ServeHTTP(rw, r)
		})
	})
	t.Setenv("TEST_REFUSED_SOURCE_TOKEN", "revoked")
	w := newMatchWorld(t)
	job := w.job
	job.Source = config.Source{Connector: &scim.Config{BaseURL: r.url, Token: secrets.Ref{Env: "TEST_REFUSED_SOURCE_TOKEN"}}}
	_, err := r.env.ExecuteActivity(r.acts.FetchChanges, activities.FetchInput{Job: job, Cycle: store.Cycle{Job: job.Name, ID: "1"}, Initial: true})
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.True(t, ae.NonRetryable())
	require.Equal(t, string(connectors.KindUnauthorized), ae.Type())
	reason := activities.Refused(err)
	require.True(t, strings.HasPrefix(reason, "Unauthorized: GET /"), reason)
	require.NotContains(t, reason, "revoked", "no secret in the reason")
	require.EqualValues(t, 1, calls.Load())
}

// Two jobs of a worker that provision into the same application share
// its concurrency limit, whatever their own concurrency.
func TestJobsShareTheTargetLimit(t *testing.T) {
	var inFlight, peak atomic.Int32
	w := newMatchWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			defer inFlight.Add(-1)
			time.Sleep(20 * time.Millisecond)
			next.ServeHTTP(rw, r)
		})
	})
	w.job.Target.Connector.(*scim.Config).MaxConcurrency = 3
	w.job.Options.Concurrency = 8
	jobs := []config.Job{w.job, w.job}
	jobs[1].Name = "match-2"
	var wg sync.WaitGroup
	for i, job := range jobs {
		cycle := store.Cycle{Job: job.Name, ID: "1"}
		var items []store.StagedItem
		for n := range 12 {
			name := job.Name + "-" + strings.Repeat("x", n+1)
			items = append(items, store.StagedItem{Seq: n + 1, Type: connectors.User, Object: connectors.Object{
				ID: name, Attributes: connectors.Attributes{"employeeId": name, "userName": name + "@example.com"},
			}})
		}
		require.NoError(t, w.st.Stage(context.Background(), cycle, items))
		// One test environment per job, as batches of two jobs run at once.
		env := w.env
		if i > 0 {
			env = (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
			env.RegisterActivity(w.acts)
		}
		wg.Go(func() {
			v, err := env.ExecuteActivity(w.acts.ProvisionBatch, activities.BatchInput{Job: job, Cycle: cycle, From: 1, To: len(items)})
			if err == nil {
				var res activities.BatchResult
				err = v.Get(&res)
				for _, e := range res.Entries {
					if e.Status != audit.Success {
						t.Errorf("%s: %s %s", e.SourceID, e.Status, e.Reason)
					}
				}
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 24, w.app.Stats().Users)
	require.Equal(t, int32(3), peak.Load(), "one limit of 3 for both jobs")
}
