package workflows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

// One account the application protects (a 403 on every write to it) fails
// alone into escrow with the application's reason, cycle after cycle, and
// the job goes on: not even a cycle whose only change is that account
// quarantines it.
func TestProtectedAccountDoesNotQuarantine(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	w := newWorld(t, "protected")
	ps := people(5)
	admin, err := w.job.Target.Connector.(*scim.Config).Open(context.Background(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	defer admin.Close()
	protected, err := admin.Create(context.Background(), connectors.User, connectors.Attributes{"userName": ps[2].UserName, "title": "Administrator"})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && strings.HasSuffix(r.URL.Path, "/Users/"+protected) {
			rw.Header().Set("Content-Type", "application/scim+json")
			rw.WriteHeader(http.StatusForbidden)
			_, _ = rw.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"administrators are managed by hand"}`))
			return
		}
		w.app.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = srv.URL + "/scim/v2"
	writeHR(t, w.hrPath, ps)

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	startJob(t, c, w.job)
	st := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, api.Running, st.State, st.LastError)
	require.Len(t, w.users(t), 5)

	// Only the protected account changes: its batch holds it alone.
	ps[2].Title = "Principal"
	writeHR(t, w.hrPath, ps)
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, api.Running, st.State, st.LastError)
	require.Nil(t, st.Quarantine)
	require.Equal(t, 1, st.LastCycle.Staged)

	var refused []audit.Entry
	for _, e := range entries(t, c, w.job.Name, 6) {
		if e.SourceID == ps[2].ID {
			refused = append(refused, e)
		}
	}
	require.Len(t, refused, 2, "tried in both cycles")
	for _, e := range refused {
		require.Equal(t, audit.Failure, e.Status)
		require.Equal(t, string(connectors.KindForbidden), e.ErrorCode)
		require.Contains(t, e.Reason, "administrators are managed by hand")
	}
}

// A SCIM source that stops accepting the job's token quarantines the job
// at the first refused read, with the reason in status; once the secret
// holds a token the source accepts, a release runs the job again without
// restarting the worker.
func TestRefusingSourceQuarantines(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	const env = "TEST_REFUSING_SOURCE_TOKEN"
	var (
		accepted atomic.Value
		rejected atomic.Int32
	)
	accepted.Store("source-1")
	t.Setenv(env, "source-1")
	dir := sampleapp.New(sampleapp.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+accepted.Load().(string) {
			rejected.Add(1)
			rw.Header().Set("Content-Type", "application/scim+json")
			rw.WriteHeader(http.StatusUnauthorized)
			_, _ = rw.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"the token was revoked"}`))
			return
		}
		dir.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	src := &scim.Config{BaseURL: srv.URL + "/scim/v2", Token: secrets.Ref{Env: env}}
	admin, err := src.Open(context.Background(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	defer admin.Close()
	for _, name := range []string{"ann@example.com", "ben@example.com", "cat@example.com"} {
		_, err := admin.Create(context.Background(), connectors.User, connectors.Attributes{"userName": name, "title": "Analyst"})
		require.NoError(t, err)
	}

	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "refusing-source")
	w.job.Source = config.Source{Connector: src}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
		{Target: "title", Type: mapping.Direct, Source: "title"},
	}
	startJob(t, c, w.job)
	st := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, api.Running, st.State, st.LastError)
	require.Len(t, w.users(t), 3)

	// The source revokes the job's token.
	accepted.Store("source-2")
	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		st = status(t, c, w.job.Name)
		return st.State == api.Quarantined
	}, time.Minute, 200*time.Millisecond, "the job is quarantined")
	require.NotNil(t, st.Quarantine)
	for _, reason := range []string{st.Quarantine.Reason, st.LastError} {
		require.Contains(t, reason, "the source refused the job: Unauthorized: GET /")
		require.Contains(t, reason, "the token was revoked")
		require.NotContains(t, reason, "source-1")
	}
	require.EqualValues(t, 1, rejected.Load(), "a refused read is not retried")

	// The secret now holds a token the source accepts: a release reads it.
	t.Setenv(env, "source-2")
	signal(t, c, w.job.Name, api.SignalRelease, nil)
	st = waitCycle(t, c, w.job.Name, 3, time.Minute)
	require.Equal(t, api.Running, st.State, st.LastError)
	require.Nil(t, st.Quarantine)
}
