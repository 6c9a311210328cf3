package activities_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// matchWorld is a job that matches users by userName, then externalId,
// against a sample application, with a cycle to stage source users in.
type matchWorld struct {
	st     *sqlite.Store
	app    *sampleapp.App
	acts   *activities.Activities
	env    *testsuite.TestActivityEnvironment
	job    config.Job
	cycle  store.Cycle
	target *scim.Client
	staged int
}

func newMatchWorld(t *testing.T) *matchWorld {
	t.Helper()
	return newMatchWorldBehind(t, unwrapped)
}

// newMatchWorldBehind puts wrap between the job and the application.
func newMatchWorldBehind(t *testing.T, wrap func(http.Handler) http.Handler) *matchWorld {
	t.Helper()
	r := newRig(t, "TEST_MATCH_TOKEN", wrap)
	hr := filepath.Join(t.TempDir(), "hr.csv")
	require.NoError(t, os.WriteFile(hr, []byte("employeeId,userName\n"), 0o600))
	w := &matchWorld{st: r.st, app: r.app, acts: r.acts, env: r.env, cycle: store.Cycle{Job: "match", ID: "1"}}
	var err error
	w.job = config.Job{
		Name:   "match",
		Source: config.Source{Connector: &file.Config{Path: hr, IDColumn: "employeeId"}},
		Target: config.Target{Connector: &scim.Config{BaseURL: r.url, Token: secrets.Ref{Env: "TEST_MATCH_TOKEN"}}},
		Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User", Attributes: []mapping.AttributeMapping{
			{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
			{Target: "externalId", Type: mapping.Direct, Source: "employeeId", MatchingPriority: 2},
			{Target: "title", Type: mapping.Direct, Source: "title"},
		}}}},
	}
	w.target, err = w.job.Target.Connector.(*scim.Config).Open(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { w.target.Close() })
	return w
}

// existing creates a user in the application, as if made before the job.
func (w *matchWorld) existing(t *testing.T, attrs connectors.Attributes) string {
	t.Helper()
	id, err := w.target.Create(context.Background(), connectors.User, attrs)
	require.NoError(t, err)
	return id
}

// stage stages source users with an employee ID, a userName and a title.
func (w *matchWorld) stage(t *testing.T, rows ...[3]string) {
	t.Helper()
	var items []store.StagedItem
	for _, r := range rows {
		w.staged++
		items = append(items, store.StagedItem{Seq: w.staged, Type: connectors.User, Object: connectors.Object{
			ID: r[0], Attributes: connectors.Attributes{"employeeId": r[0], "userName": r[1], "title": r[2]},
		}})
	}
	require.NoError(t, w.st.Stage(context.Background(), w.cycle, items))
}

func (w *matchWorld) index(t *testing.T) activities.IndexResult {
	t.Helper()
	v, err := w.env.ExecuteActivity(w.acts.IndexTarget, activities.IndexInput{Job: w.job, Cycle: w.cycle})
	require.NoError(t, err)
	var res activities.IndexResult
	require.NoError(t, v.Get(&res))
	return res
}

// provision provisions every staged item and returns the entries by source ID.
func (w *matchWorld) provision(t *testing.T) map[string]audit.Entry {
	t.Helper()
	v, err := w.env.ExecuteActivity(w.acts.ProvisionBatch, activities.BatchInput{Job: w.job, Cycle: w.cycle, From: 1, To: w.staged})
	require.NoError(t, err)
	var res activities.BatchResult
	require.NoError(t, v.Get(&res))
	out := map[string]audit.Entry{}
	for _, e := range res.Entries {
		out[e.SourceID] = e
	}
	return out
}

// Objects the target holds are matched from the index, in precedence
// order, without a query per object: only the writes reach the target,
// and a query for a value that differs in case only, which the target
// decides about.
func TestIndexMatchesWithoutQueries(t *testing.T) {
	w := newMatchWorld(t)
	ada := w.existing(t, connectors.Attributes{"userName": "ada@example.com", "title": "Engineer"})
	bob := w.existing(t, connectors.Attributes{"userName": "old-bob@example.com", "externalId": "E2", "title": "Architect"})
	w.existing(t, connectors.Attributes{"userName": "eve@example.com"})
	require.Equal(t, 3, w.index(t).Objects)

	w.app.ResetStats()
	w.stage(t, [3]string{"E1", "ADA@example.com", "Principal"}, [3]string{"E2", "bob@example.com", "Architect"}, [3]string{"E3", "cy@example.com", "Engineer"})
	entries := w.provision(t)

	require.Equal(t, map[string]int{"GET /Users": 1, "PATCH /Users": 2, "POST /Users": 1}, w.app.Stats().Requests)
	require.Equal(t, ada, entries["E1"].TargetID, "matched by userName, which the target compares without case")
	require.Equal(t, audit.Update, entries["E1"].Action)
	require.Equal(t, bob, entries["E2"].TargetID, "matched by externalId")
	require.Equal(t, audit.Update, entries["E2"].Action, "userName is brought in line")
	require.Equal(t, audit.Create, entries["E3"].Action)
	require.Equal(t, 4, w.app.Stats().Users)
	states, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{"E1", "E2", "E3"})
	require.NoError(t, err)
	require.Equal(t, ada, states["E1"].TargetID)
	require.Equal(t, bob, states["E2"].TargetID)
	require.Equal(t, entries["E3"].TargetID, states["E3"].TargetID)
}

// A mapping applied only on creation (an initial password) is not applied
// to an object the job matches: the account keeps its value.
func TestMatchedObjectGetsNoCreationOnlyValues(t *testing.T) {
	w := newMatchWorld(t)
	w.job.Objects[0].Attributes[2].ApplyOn = mapping.ObjectCreationOnly
	ada := w.existing(t, connectors.Attributes{"userName": "ada@example.com", "title": "Engineer"})
	w.index(t)
	w.stage(t, [3]string{"E1", "ada@example.com", "Principal"}, [3]string{"E3", "cy@example.com", "Principal"})
	entries := w.provision(t)
	require.Equal(t, ada, entries["E1"].TargetID)
	require.Equal(t, audit.Update, entries["E1"].Action, "externalId is added")
	for _, m := range entries["E1"].Modified {
		require.NotEqual(t, "title", m.Name, "a creation-only value pushed to a matched object")
	}
	require.Equal(t, audit.Create, entries["E3"].Action)
	for _, u := range w.app.Users() {
		want := map[string]string{"ada@example.com": "Engineer", "cy@example.com": "Principal"}[u.Attributes["userName"].(string)]
		require.Equal(t, want, u.Attributes["title"], "%v", u.Attributes["userName"])
	}
}

// A redacted value applied only on creation (an initial password) reaches
// the target and is not kept in the state store.
func TestRedactedCreationOnlyValueIsNotStored(t *testing.T) {
	w := newMatchWorld(t)
	w.job.Objects[0].Attributes[2] = mapping.AttributeMapping{Target: "title", Type: mapping.Expression, Expression: `Redact([title])`, ApplyOn: mapping.ObjectCreationOnly}
	w.index(t)
	w.stage(t, [3]string{"E3", "cy@example.com", "Secret-Title"})
	require.Equal(t, audit.Create, w.provision(t)["E3"].Action)
	require.Equal(t, "Secret-Title", w.app.Users()[0].Attributes["title"])
	states, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{"E3"})
	require.NoError(t, err)
	require.NotContains(t, states["E3"].Pushed, "title")
	require.Equal(t, "cy@example.com", states["E3"].Pushed["userName"])
}

// An object created after the index was read is not in it: the create is
// refused as a conflict, and the object is matched by query and linked.
func TestConflictOnCreateLinks(t *testing.T) {
	w := newMatchWorld(t)
	w.index(t)
	dan := w.existing(t, connectors.Attributes{"userName": "dan@example.com", "title": "Engineer"})

	w.app.ResetStats()
	w.stage(t, [3]string{"E4", "dan@example.com", "Engineer"})
	e := w.provision(t)["E4"]
	stats := w.app.Stats()
	require.Equal(t, 1, stats.Requests["POST /Users"])
	require.Equal(t, 1, stats.Statuses[http.StatusConflict])
	require.Equal(t, 1, stats.Requests["GET /Users"], "one query, after the conflict")
	require.Equal(t, dan, e.TargetID)
	require.Equal(t, audit.Update, e.Action, "externalId is added")
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, 1, stats.Users, "no duplicate")
	states, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{"E4"})
	require.NoError(t, err)
	require.Equal(t, dan, states["E4"].TargetID)
}

// A conflict on an attribute that does not match stands: the object fails.
func TestConflictWithoutMatchFails(t *testing.T) {
	w := newMatchWorld(t)
	w.job.Objects[0].Attributes[0].MatchingPriority = 0 // match by externalId only
	w.existing(t, connectors.Attributes{"userName": "fay@example.com", "externalId": "X5"})
	w.index(t)
	w.stage(t, [3]string{"E5", "fay@example.com", "Engineer"})
	e := w.provision(t)["E5"]
	require.Equal(t, audit.Failure, e.Status)
	require.Equal(t, audit.Create, e.Action)
	require.Equal(t, string(connectors.KindConflict), e.ErrorCode)
	require.Equal(t, 1, w.app.Stats().Users)
}

// Two target objects with the matching value fail the object, from the
// index as from a query: it is never linked to a guess.
func TestIndexRefusesDuplicateTargetEntries(t *testing.T) {
	w := newMatchWorld(t)
	w.existing(t, connectors.Attributes{"userName": "g1@example.com", "externalId": "E6"})
	w.existing(t, connectors.Attributes{"userName": "g2@example.com", "externalId": "E6"})
	w.index(t)

	w.app.ResetStats()
	w.stage(t, [3]string{"E6", "gil@example.com", "Engineer"})
	e := w.provision(t)["E6"]
	require.Equal(t, audit.Failure, e.Status)
	require.Equal(t, activities.CodeDuplicateTargetEntries, e.ErrorCode)
	require.Equal(t, `2 target objects have externalId "E6"`, e.Reason)
	require.Empty(t, w.app.Stats().Requests, "decided from the index")
}

// Credentials the target refuses are read again by the next call, so a
// rotated token takes effect without restarting the worker.
func TestRefusedCredentialsAreReadAgain(t *testing.T) {
	w := newMatchWorld(t)
	t.Setenv("TEST_MATCH_TOKEN", "revoked")
	w.stage(t, [3]string{"E7", "hal@example.com", "Engineer"})
	require.Equal(t, string(connectors.KindUnauthorized), w.provision(t)["E7"].ErrorCode)

	t.Setenv("TEST_MATCH_TOKEN", "token")
	w.cycle, w.staged = store.Cycle{Job: w.job.Name, ID: "2"}, 0
	w.stage(t, [3]string{"E7", "hal@example.com", "Engineer"})
	e := w.provision(t)["E7"]
	require.Equal(t, audit.Success, e.Status, e.Reason)
	require.Equal(t, audit.Create, e.Action)
}

// A target that refuses to be listed is not indexed: its objects are
// matched by query, as without an index.
func TestUnlistableTargetIsQueried(t *testing.T) {
	w := newMatchWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Query().Get("filter") == "" {
				http.Error(rw, `{"detail":"a filter is required"}`, http.StatusBadRequest)
				return
			}
			next.ServeHTTP(rw, r)
		})
	})
	ada := w.existing(t, connectors.Attributes{"userName": "ada@example.com"})
	require.Zero(t, w.index(t).Objects)

	w.app.ResetStats()
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"})
	e := w.provision(t)["E1"]
	require.Equal(t, ada, e.TargetID)
	require.Equal(t, 1, w.app.Stats().Requests["GET /Users"], "matched by query")
}
