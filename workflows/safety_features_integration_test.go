package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// With a target object action off, that action is never pushed and the log
// says why; turned on again, the changes held back reach the target.
func TestTargetObjectActionsOff(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)

	t.Run("Create", func(t *testing.T) {
		w := ownWorld(t, "actions-create")
		w.job.Objects[0].Actions.NoCreate = true
		writeHR(t, w.hrPath, people(4))
		startJob(t, c, w.job)
		st := waitCycle(t, c, w.job.Name, 1, time.Minute)
		require.Zero(t, w.app.Stats().Requests["POST /Users"])
		require.Empty(t, w.app.Users())
		log := cycleLog(t, c, w.job.Name, st.LastCycle.ID, 4)
		require.Len(t, log, 4)
		for id, e := range log {
			require.Equal(t, audit.Skipped, e.Status, id)
			require.Contains(t, e.Reason, "the Create target action is off", id)
		}
	})

	t.Run("Update", func(t *testing.T) {
		w := ownWorld(t, "actions-update")
		w.job.Objects[0].Actions.NoUpdate = true
		ps := people(4)
		// An account the job will match, with values the source disagrees with.
		admin, err := w.job.Target.Connector.(*scim.Config).Open(context.Background(), logrus.NewEntry(logrus.New()))
		require.NoError(t, err)
		_, err = admin.Create(context.Background(), connectors.User, connectors.Attributes{"userName": ps[0].UserName, "title": "Intern"})
		require.NoError(t, err)
		writeHR(t, w.hrPath, ps)
		w.app.ResetStats()
		startJob(t, c, w.job)
		st := waitCycle(t, c, w.job.Name, 1, time.Minute)
		require.Equal(t, 3, w.app.Stats().Requests["POST /Users"], "creates go on")
		require.Zero(t, w.app.Stats().Requests["PATCH /Users"], "the matched account is not updated")
		e := cycleLog(t, c, w.job.Name, st.LastCycle.ID, 4)[ps[0].ID]
		require.Equal(t, audit.Skipped, e.Status)
		require.Contains(t, e.Reason, "the Update target action is off")
		require.Contains(t, e.Reason, "title")

		ps[1].Title = "Senior Engineer"
		writeHR(t, w.hrPath, ps)
		w.app.ResetStats()
		st = syncNow(t, c, w.job.Name, 2)
		require.Zero(t, w.app.Stats().Requests["PATCH /Users"])
		e = cycleLog(t, c, w.job.Name, st.LastCycle.ID, 1)[ps[1].ID]
		require.Equal(t, audit.Skipped, e.Status)
		require.Contains(t, e.Reason, "the Update target action is off")
		require.Equal(t, "Engineer", w.users(t)[ps[1].UserName].Attributes["title"])

		// Updates on again: a new initial cycle pushes what was held back.
		w.job.Objects[0].Actions.NoUpdate = false
		var updated api.Status
		updateJob(t, c, w.job.Name, api.UpdateConfiguration, w.job, &updated)
		waitCycle(t, c, w.job.Name, 3, time.Minute)
		require.Equal(t, 2, w.app.Stats().Requests["PATCH /Users"])
		users := w.users(t)
		require.Equal(t, "Engineer", users[ps[0].UserName].Attributes["title"])
		require.Equal(t, "Senior Engineer", users[ps[1].UserName].Attributes["title"])
	})

	t.Run("Delete", func(t *testing.T) {
		w := ownWorld(t, "actions-delete")
		w.job.Objects[0].Actions.NoDelete = true
		w.job.Options.DeleteAbsent = true
		ps := people(6)
		writeHR(t, w.hrPath, ps)
		startJob(t, c, w.job)
		waitCycle(t, c, w.job.Name, 1, time.Minute)
		require.Len(t, w.users(t), 6)

		writeHR(t, w.hrPath, ps[:5])
		w.app.ResetStats()
		st := syncNow(t, c, w.job.Name, 2)
		require.Zero(t, w.app.Stats().Requests["DELETE /Users"])
		require.Zero(t, w.app.Stats().Requests["PATCH /Users"])
		users := w.users(t)
		require.Len(t, users, 6)
		require.True(t, active(users[ps[5].UserName]))
		e := cycleLog(t, c, w.job.Name, st.LastCycle.ID, 1)[ps[5].ID]
		require.Equal(t, audit.Skipped, e.Status)
		require.Contains(t, e.Reason, "the Delete target action is off")
	})
}

// With skipOutOfScopeDeletions, accounts whose source object leaves scope,
// is disabled or leaves the export stay active, and the log says why.
func TestSkipOutOfScopeDeletions(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	w := ownWorld(t, "skip-out-of-scope")
	w.job.Options.SkipOutOfScopeDeletions = true
	ps := people(10)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Len(t, w.users(t), inScope(ps))

	ps[0].Type = "Contractor"
	ps[1].Status = "Inactive"
	writeHR(t, w.hrPath, append(ps[:2:2], ps[3:]...))
	w.app.ResetStats()
	st := syncNow(t, c, w.job.Name, 2)
	require.Zero(t, w.app.Stats().Requests["PATCH /Users"])
	require.Zero(t, w.app.Stats().Requests["DELETE /Users"])
	for name, u := range w.users(t) {
		require.True(t, active(u), "%s is left active", name)
	}
	log := cycleLog(t, c, w.job.Name, st.LastCycle.ID, 3)
	for _, p := range ps[:3] {
		e := log[p.ID]
		require.Equal(t, audit.Skipped, e.Status, p.ID)
		require.Contains(t, e.Reason, "skipOutOfScopeDeletions is on", p.ID)
	}
	require.Contains(t, log[ps[0].ID].Reason, "out of scope")
	require.Contains(t, log[ps[1].ID].Reason, "disabled")
}

// An object the target refuses is escrowed: later cycles leave it alone
// until its back-off has passed, each failed retry doubles the back-off,
// and once the target accepts it the object is provisioned and leaves
// escrow. The store's retry time is moved back to stand for the waits.
func TestEscrowBacksOffAcrossCycles(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	st := startWorker(t, c)
	w := ownWorld(t, "escrow")
	ps := people(6)
	bad := ps[2]
	target := &refusing{next: w.app.Handler(), userName: bad.UserName}
	target.refuse.Store(true)
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = srv.URL + "/scim/v2"
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)

	s := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, int32(1), target.attempts.Load())
	require.Len(t, w.users(t), 5, "the rest of the cycle goes on")
	e := cycleLog(t, c, w.job.Name, s.LastCycle.ID, 6)[bad.ID]
	require.Equal(t, audit.Failure, e.Status)
	require.Contains(t, e.Reason, "refused for the test")
	esc := escrowOf(t, c, w.job.Name, bad.ID)
	require.Equal(t, 1, esc.Attempts)
	require.Equal(t, e.ErrorCode, esc.Code)
	first := time.Until(esc.RetryAfter)
	require.Greater(t, first, 30*time.Second, "retried after a back-off, not next cycle")

	s = syncNow(t, c, w.job.Name, 2)
	require.Equal(t, int32(1), target.attempts.Load(), "not retried before its back-off passed")
	require.NotContains(t, cycleLog(t, c, w.job.Name, s.LastCycle.ID, 0), bad.ID)
	require.Equal(t, 1, escrowOf(t, c, w.job.Name, bad.ID).Attempts)

	backOffPassed(t, st, w.job.Name, bad.ID)
	s = syncNow(t, c, w.job.Name, 3)
	require.Equal(t, int32(2), target.attempts.Load(), "retried once its back-off passed")
	require.Equal(t, audit.Failure, cycleLog(t, c, w.job.Name, s.LastCycle.ID, 1)[bad.ID].Status)
	esc = escrowOf(t, c, w.job.Name, bad.ID)
	require.Equal(t, 2, esc.Attempts)
	require.Greater(t, time.Until(esc.RetryAfter), first+30*time.Second, "the back-off grows")

	syncNow(t, c, w.job.Name, 4)
	require.Equal(t, int32(2), target.attempts.Load(), "not retried before its longer back-off passed")

	target.refuse.Store(false)
	backOffPassed(t, st, w.job.Name, bad.ID)
	s = syncNow(t, c, w.job.Name, 5)
	require.Equal(t, int32(3), target.attempts.Load())
	e = cycleLog(t, c, w.job.Name, s.LastCycle.ID, 1)[bad.ID]
	require.Equal(t, audit.Create, e.Action)
	require.Equal(t, audit.Success, e.Status)
	require.Contains(t, w.users(t), bad.UserName)
	conn := connectionOf(t, c, w.job.Name, bad.ID)
	require.Nil(t, conn.Escrow, "the object left escrow")
	require.Equal(t, e.TargetID, conn.TargetID)
}

// A quarantined job that then runs a cycle successfully is running again,
// its quarantine cleared: after rejected credentials are fixed, and after
// an operator's quarantine.
func TestSuccessLiftsQuarantine(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	c := testenv.StartTemporal(t).Client
	startWorker(t, c)
	w := ownWorld(t, "quarantine-lifted")
	token := os.Getenv(w.job.Target.Connector.(*scim.Config).Token.Env)
	t.Setenv(w.job.Target.Connector.(*scim.Config).Token.Env, "rejected-token")
	writeHR(t, w.hrPath, people(5))
	startJob(t, c, w.job)

	s := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, api.Quarantined, s.State)
	require.NotNil(t, s.Quarantine)
	require.Contains(t, s.Quarantine.Reason, "EncounteredQuarantineException")
	require.Greater(t, time.Until(s.NextRun), 23*time.Hour, "a quarantined job tries once a day")
	require.Empty(t, w.app.Users())

	t.Setenv(w.job.Target.Connector.(*scim.Config).Token.Env, token)
	s = syncNow(t, c, w.job.Name, 2)
	require.Equal(t, api.Running, s.State)
	require.Nil(t, s.Quarantine)
	require.Empty(t, s.LastError)
	require.Less(t, time.Until(s.NextRun), 2*time.Hour, "back to the job's interval")
	require.Len(t, w.users(t), 5)

	signal(t, c, w.job.Name, api.SignalQuarantine, nil)
	require.Eventually(t, func() bool {
		s, err := queryStatus(c, w.job.Name)
		return err == nil && s.State == api.Quarantined && s.Quarantine != nil && s.Quarantine.Reason == "QuarantinedOnDemand"
	}, 30*time.Second, 100*time.Millisecond)
	s = syncNow(t, c, w.job.Name, 3)
	require.Equal(t, api.Running, s.State)
	require.Nil(t, s.Quarantine)
}

// ownWorld is newWorld with a token variable of the job's own, so that
// several jobs run side by side on one worker.
func ownWorld(t *testing.T, name string) *world {
	t.Helper()
	w := newWorld(t, name)
	env := "TEST_TOKEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	t.Setenv(env, os.Getenv(tokenEnv))
	w.job.Target.Connector.(*scim.Config).Token = secrets.Ref{Env: env}
	return w
}

// syncNow runs cycle n of the job now and returns the job's status after it.
func syncNow(t *testing.T, c client.Client, job string, n int) api.Status {
	t.Helper()
	signal(t, c, job, api.SignalSyncNow, nil)
	return waitCycle(t, c, job, n, time.Minute)
}

// cycleLog returns one cycle's log entries by source ID, once at least want
// of them are visible (visibility is eventually consistent).
func cycleLog(t *testing.T, c client.Client, job, cycleID string, want int) map[string]audit.Entry {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := map[string]audit.Entry{}
		require.NoError(t, history.Read(context.Background(), c, "default", job, func(e audit.Entry) error {
			if e.CycleID == cycleID {
				out[e.SourceID] = e
			}
			return nil
		}))
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// connectionOf asks the job for one user's object connection, as
// `starter connections` does.
func connectionOf(t *testing.T, c client.Client, job, id string) api.Connection {
	t.Helper()
	var res api.ConnectionsResult
	updateJob(t, c, job, api.UpdateConnections, api.ConnectionsRequest{Type: connectors.User, ID: id}, &res)
	require.Len(t, res.Connections, 1, "the job knows %s", id)
	return res.Connections[0]
}

func escrowOf(t *testing.T, c client.Client, job, id string) api.ConnectionEscrow {
	t.Helper()
	conn := connectionOf(t, c, job, id)
	require.NotNil(t, conn.Escrow, "%s is in escrow", id)
	return *conn.Escrow
}

// backOffPassed moves an escrowed user's retry time into the past, as if
// its back-off had been waited out.
func backOffPassed(t *testing.T, st *sqlite.Store, job, id string) {
	t.Helper()
	ctx := context.Background()
	m, err := st.Objects(ctx, job, connectors.User, []string{id})
	require.NoError(t, err)
	o := m[id]
	require.NotNil(t, o.Escrow, "%s is in escrow", id)
	o.Escrow.RetryAfter = time.Now().Add(-time.Second)
	require.NoError(t, st.PutObject(ctx, job, o))
}

// refusing passes requests to the application but, while refuse is set,
// answers the creation of one account with 400, as a target that rejects a
// value does; it counts the attempts to create that account.
type refusing struct {
	next     http.Handler
	userName string
	refuse   atomic.Bool
	attempts atomic.Int32
}

func (h *refusing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Users") {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var u struct {
			UserName string `json:"userName"`
		}
		if json.Unmarshal(body, &u) == nil && u.UserName == h.userName {
			h.attempts.Add(1)
			if h.refuse.Load() {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"refused for the test"}`))
				return
			}
		}
	}
	h.next.ServeHTTP(w, r)
}
