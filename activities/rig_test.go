package activities_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// rig is what activity tests run on: a state store, a sample application
// whose token is in tokenEnv, and the activities in a test environment.
type rig struct {
	st   *sqlite.Store
	app  *sampleapp.App
	url  string
	acts *activities.Activities
	env  *testsuite.TestActivityEnvironment
}

// newRig starts the rig; wrap sits between the activities and the application.
func newRig(t *testing.T, tokenEnv string, wrap func(http.Handler) http.Handler) rig {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	t.Setenv(tokenEnv, "token")
	app := sampleapp.New(sampleapp.Options{Token: "token"})
	srv := httptest.NewServer(wrap(app.Handler()))
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	acts := activities.New(st, log)
	t.Cleanup(func() { acts.Connections.Close(); srv.Close(); st.Close() })
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return rig{st: st, app: app, url: srv.URL + "/scim/v2", acts: acts, env: env}
}

func unwrapped(h http.Handler) http.Handler { return h }
