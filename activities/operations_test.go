package activities_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv/lostanswer"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// losingCreates loses the target's answers to the next n POSTs, once the
// target created the object or refused it as a conflict.
func losingCreates(n int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return lostanswer.New(next, lostanswer.POSTs(n)) }
}

func (w *matchWorld) state(t *testing.T, id string) store.ObjectState {
	t.Helper()
	states, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, []string{id})
	require.NoError(t, err)
	return states[id]
}

// A create whose answer the target lost is sent again and conflicts with
// the object it made: the entry is the create, with its values, not an
// existing object matched and skipped.
func TestCreateWhoseAnswerWasLostIsLogged(t *testing.T) {
	w := newMatchWorldBehind(t, losingCreates(1))
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"})
	e := w.provision(t)["E1"]

	require.Equal(t, audit.Create, e.Action, "%+v", e)
	require.Equal(t, audit.Success, e.Status)
	require.Contains(t, e.Reason, "confirmed after a retry: the target lost its answer to the create")
	require.ElementsMatch(t, []audit.Property{{Name: "userName", New: "ada@example.com"}, {Name: "externalId", New: "E1"}, {Name: "title", New: "Engineer"}}, e.Modified)
	require.Equal(t, 2, w.app.Stats().Requests["POST /Users"])
	require.Equal(t, 1, w.app.Stats().Statuses[http.StatusConflict], "the create sent again conflicts")
	require.Equal(t, 1, w.app.Stats().Users)
	st := w.state(t, "E1")
	require.Equal(t, e.TargetID, st.TargetID)
	require.Nil(t, st.Operation, "the outcome is recorded")
}

// A create that failed without knowing whether the target acted keeps its
// operation; the cycle that next finds the object logs the create.
func TestCreateInDoubtIsLoggedWhenFound(t *testing.T) {
	// The create, then the create sent again, lose their answers.
	w := newMatchWorldBehind(t, losingCreates(2))
	w.job.Target.Connector.(*scim.Config).MaxRetries = 1
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"})
	failed := w.provision(t)["E1"]
	require.Equal(t, audit.Failure, failed.Status, "%+v", failed)
	require.Equal(t, audit.Create, failed.Action)
	op := w.state(t, "E1").Operation
	require.NotNil(t, op, "the create stays pending")
	require.Equal(t, audit.Create, op.Action)
	require.Equal(t, failed.ChangeID, op.ChangeID)
	require.Equal(t, 1, w.app.Stats().Users, "the target did create it")

	w.cycle, w.staged = store.Cycle{Job: w.job.Name, ID: "2"}, 0
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"})
	e := w.provision(t)["E1"]
	require.Equal(t, audit.Create, e.Action, "%+v", e)
	require.Equal(t, audit.Success, e.Status)
	require.Contains(t, e.Reason, "confirmed after a retry: an earlier attempt (change 1-1) ended without knowing whether the target acted")
	require.ElementsMatch(t, op.Modified, e.Modified)
	require.Equal(t, 1, w.app.Stats().Users)
	require.Nil(t, w.state(t, "E1").Operation)
}

// An object created by another (a conflict with no answer lost) is
// matched as before: nothing claims the job created it.
func TestConflictWithAnotherObjectIsNotACreate(t *testing.T) {
	w := newMatchWorld(t)
	w.index(t)
	w.existing(t, connectors.Attributes{"userName": "dan@example.com", "externalId": "E4", "title": "Engineer"})
	w.stage(t, [3]string{"E4", "dan@example.com", "Engineer"})
	e := w.provision(t)["E4"]
	require.Equal(t, audit.Other, e.Action)
	require.Equal(t, audit.Skipped, e.Status)
	require.Equal(t, "matched an existing target object that already has these values", e.Reason)
	require.Nil(t, w.state(t, "E4").Operation)
}

// Each push is preceded by its operation in the object's state: a batch
// whose attempt dies between the push and its record leaves it behind.
// The creates the index foretells are recorded together at the batch's
// start; others as they come.
func TestOperationIsRecordedBeforeThePush(t *testing.T) {
	var (
		seen []*store.Operation
		w    *matchWorld
	)
	w = newMatchWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost || r.Method == http.MethodPatch {
				seen = append(seen, w.state(t, "E1").Operation)
			}
			next.ServeHTTP(rw, r)
		})
	})
	w.index(t)
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"})
	created := w.provision(t)["E1"]
	w.cycle, w.staged = store.Cycle{Job: w.job.Name, ID: "2"}, 0
	w.stage(t, [3]string{"E1", "ada@example.com", "Architect"})
	updated := w.provision(t)["E1"]

	require.Len(t, seen, 2)
	require.Equal(t, audit.Create, seen[0].Action)
	require.Equal(t, created.ChangeID, seen[0].ChangeID)
	require.ElementsMatch(t, created.Modified, seen[0].Modified)
	require.Equal(t, audit.Update, seen[1].Action)
	require.Equal(t, updated.TargetID, seen[1].TargetID)
	require.Equal(t, []audit.Property{{Name: "title", Old: "Engineer", New: "Architect"}}, seen[1].Modified)
	require.Nil(t, w.state(t, "E1").Operation)
}

// newWorldRecordingOperationsAtFirst returns a world whose application,
// at the first request of method, notes the pending operations the state
// store then holds for the users ids, in the map returned.
func newWorldRecordingOperationsAtFirst(t *testing.T, method string, ids ...string) (*matchWorld, *map[string]*store.Operation) {
	var (
		atFirst map[string]*store.Operation
		w       *matchWorld
	)
	w = newMatchWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == method && atFirst == nil {
				states, err := w.st.Objects(context.Background(), w.job.Name, connectors.User, ids)
				require.NoError(t, err)
				atFirst = map[string]*store.Operation{}
				for id, st := range states {
					atFirst[id] = st.Operation
				}
			}
			next.ServeHTTP(rw, r)
		})
	})
	return w, &atFirst
}

// The updates of a batch's linked objects are recorded together as the
// batch begins: at the first PATCH every changed object's state holds its
// operation already, with the properties its entry then logs. An object
// with nothing to push holds none.
func TestUpdatesAreRecordedTogetherBeforeThePushes(t *testing.T) {
	w, atFirst := newWorldRecordingOperationsAtFirst(t, http.MethodPatch, "E1", "E2", "E3", "E4")
	// One call at a time: an operation recorded just before its own push
	// would be the only one there at the first PATCH.
	w.job.Options.Concurrency = 1
	w.index(t)
	w.stage(t, [3]string{"E1", "ada@example.com", "Engineer"}, [3]string{"E2", "bob@example.com", "Engineer"},
		[3]string{"E3", "cy@example.com", "Engineer"}, [3]string{"E4", "dee@example.com", "Engineer"})
	w.provision(t)
	w.cycle, w.staged = store.Cycle{Job: w.job.Name, ID: "2"}, 0
	w.stage(t, [3]string{"E1", "ada@example.com", "Architect"}, [3]string{"E2", "bob@example.com", "Engineer"},
		[3]string{"E3", "cy@example.com", "Manager"}, [3]string{"E4", "dee@example.com", "Director"})
	updated := w.provision(t)

	require.Equal(t, 3, w.app.Stats().Requests["PATCH /Users"])
	require.Nil(t, (*atFirst)["E2"], "unchanged")
	for _, id := range []string{"E1", "E3", "E4"} {
		op := (*atFirst)[id]
		require.NotNil(t, op, id)
		require.Equal(t, audit.Update, op.Action, id)
		require.Equal(t, updated[id].ChangeID, op.ChangeID, id)
		require.Equal(t, updated[id].TargetID, op.TargetID, id)
		require.Equal(t, updated[id].Modified, op.Modified, id)
		require.Nil(t, w.state(t, id).Operation, "%s: the outcome is recorded", id)
	}
}

// A push the batch planned as it began is sent with the values it
// recorded then, though the mapping calls Guid(): each object is mapped
// once, and nothing is recorded again before its request. So for creates,
// then, in the next cycle, for the updates that a new Guid makes.
func TestPlannedPushesSendTheValuesRecorded(t *testing.T) {
	ids := []string{"E1", "E2", "E3"}
	rows := [][3]string{{"E1", "ada@example.com", "Engineer"}, {"E2", "bob@example.com", "Engineer"}, {"E3", "cy@example.com", "Engineer"}}
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			w, atFirst := newWorldRecordingOperationsAtFirst(t, method, ids...)
			w.job.Options.Concurrency = 1
			om := &w.job.Objects[0].ObjectMapping
			om.Attributes = append(om.Attributes, mapping.AttributeMapping{Target: "nickName", Type: mapping.Expression, Expression: "Guid()"})
			w.index(t)
			w.stage(t, rows...)
			pushed := w.provision(t)
			want := audit.Create
			if method == http.MethodPatch {
				w.cycle, w.staged = store.Cycle{Job: w.job.Name, ID: "2"}, 0
				w.index(t)
				w.stage(t, rows...)
				pushed, want = w.provision(t), audit.Update
			}

			require.Equal(t, 3, w.app.Stats().Requests[method+" /Users"])
			guids := map[string]bool{}
			for _, id := range ids {
				op, e := (*atFirst)[id], pushed[id]
				require.NotNil(t, op, id)
				require.Equal(t, want, e.Action, "%s: %+v", id, e)
				require.Equal(t, audit.Success, e.Status, id)
				require.Equal(t, op.Modified, e.Modified, "%s: pushed as recorded at the batch's start", id)
				u, err := w.target.Get(context.Background(), connectors.User, e.TargetID)
				require.NoError(t, err)
				guid := u.Attributes["nickName"].(string)
				require.True(t, slices.ContainsFunc(op.Modified, func(p audit.Property) bool { return p.Name == "nickName" && p.New == guid }), "%s: %+v", id, op.Modified)
				guids[guid] = true
			}
			require.Len(t, guids, 3)
		})
	}
}

// A request provisioned on demand again after its result was lost logs
// what its first attempt did, not an object that has its values already.
func TestOnDemandRetryLogsWhatWasDone(t *testing.T) {
	w := newOnDemandWorld(t)
	in := activities.OnDemandInput{Job: w.job, Type: connectors.User, SourceID: "E1", RequestID: "lost"}
	var first, again api.OnDemandResult
	for _, res := range []*api.OnDemandResult{&first, &again} {
		v, err := w.env.ExecuteActivity(w.acts.ProvisionOnDemand, in)
		require.NoError(t, err)
		require.NoError(t, v.Get(res))
	}
	require.Equal(t, audit.Create, first.Object().Action)
	e := again.Object()
	require.Equal(t, audit.Create, e.Action, "%+v", e)
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, first.Object().Modified, e.Modified)
	require.Equal(t, first.Object().TargetID, e.TargetID)
	require.Contains(t, e.Reason, "confirmed after a retry")
	require.Equal(t, 1, w.app.Stats().Users)

	// A new request finds nothing to do.
	require.Equal(t, audit.Skipped, w.provision(t, connectors.User, "E1").Object().Status)
}

// A membership page started again after it pushed a group's members and
// recorded them, but before its result was kept, logs the change, which
// its first attempt's result would have held.
func TestMembershipRetryLogsTheChange(t *testing.T) {
	ctx := context.Background()
	w := newPhaseWorld(t, false)
	w.link(t, connectors.User, "E1", "ada", true)
	w.link(t, connectors.Group, "G1", "Engineering", true)
	require.NoError(t, w.st.PutSourceGroups(ctx, w.job.Name, []store.SourceGroup{{ID: "G1", Members: []string{"E1"}}}))
	mark := func() {
		require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.MembershipWork, connectors.Group, []string{"G1"}))
	}
	mark()
	first := w.runIn(t, w.acts.SyncMemberships, "7").Entries
	require.Len(t, first, 1)
	mark() // the first attempt ended before it cleared the mark
	again := w.runIn(t, w.acts.SyncMemberships, "7").Entries
	require.Len(t, again, 1)
	require.Equal(t, audit.Update, again[0].Action)
	require.Equal(t, audit.Success, again[0].Status)
	require.Equal(t, first[0].Modified, again[0].Modified)
	require.Equal(t, first[0].ChangeID, again[0].ChangeID)
	require.Contains(t, again[0].Reason, "confirmed after a retry: an earlier attempt of this change")
	require.Equal(t, 1, w.app.Stats().Requests["PATCH /Groups"], "pushed once")

	mark()
	require.Empty(t, w.runIn(t, w.acts.SyncMemberships, "8").Entries, "the next cycle has nothing to do")
}

// A reference page started again after it wrote a reference and recorded
// it, but before its result was kept, logs the change.
func TestReferenceRetryLogsTheChange(t *testing.T) {
	ctx := context.Background()
	w := newPhaseWorld(t, false)
	w.link(t, connectors.User, "E1", "ada", true)
	w.link(t, connectors.User, "E2", "bob", true)
	w.refer(t, "E2", "E1")
	mark := func() {
		require.NoError(t, w.st.MarkPending(ctx, w.job.Name, store.ReferenceWork, connectors.User, []string{"E2"}))
	}
	mark()
	first := w.runIn(t, w.acts.ResolveReferences, "7").Entries
	require.Len(t, first, 1)
	mark()
	again := w.runIn(t, w.acts.ResolveReferences, "7").Entries
	require.Len(t, again, 1)
	require.Equal(t, audit.Update, again[0].Action)
	require.Equal(t, audit.Success, again[0].Status)
	require.Equal(t, []audit.Property{{Name: managerAttr, New: w.ids["E1"]}}, again[0].Modified)
	require.Contains(t, again[0].Reason, "confirmed after a retry")
	require.Equal(t, 1, w.app.Stats().Requests["PATCH /Users"], "written once")

	mark()
	require.Empty(t, w.runIn(t, w.acts.ResolveReferences, "8").Entries)
}
