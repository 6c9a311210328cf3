package workflows_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// A target that answers 20% of requests with 503 or 429 and Retry-After:
// the job converges to exactly the expected accounts without operator action.
func TestConvergesDespiteTargetFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "faults")
	w.app = sampleapp.New(sampleapp.Options{Token: "test-token-faults", FaultRate: 0.2, FaultSeed: 7, RetryAfter: 20 * time.Millisecond})
	srv := httptest.NewServer(w.app.Handler())
	t.Cleanup(srv.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = srv.URL + "/scim/v2"
	ps := people(300)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	waitCycle(t, c, w.job.Name, 1, 2*time.Minute)

	// Change some rows too, so updates meet faults as well.
	for i := 0; i < 30; i++ {
		ps[i].Title = "Senior Engineer"
	}
	writeHR(t, w.hrPath, ps)
	deadline := time.Now().Add(4 * time.Minute)
	for n := 2; ; n++ {
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		st := waitCycle(t, c, w.job.Name, n, 2*time.Minute)
		if converged(w, ps) {
			break
		}
		require.True(t, time.Now().Before(deadline), "not converged after cycle %d: %+v", n, st.LastCycle)
		time.Sleep(5 * time.Second)
	}
	require.NotZero(t, w.app.Stats().Faults, "faults were injected")
}

func converged(w *world, ps []person) bool {
	users := map[string]sampleapp.Resource{}
	for _, u := range w.app.Users() {
		name, _ := u.Attributes["userName"].(string)
		if _, dup := users[name]; dup {
			return false
		}
		users[name] = u
	}
	if len(users) != inScope(ps) {
		return false
	}
	for _, p := range ps {
		if p.Type != "Employee" {
			continue
		}
		u, ok := users[p.UserName]
		if !ok || u.Attributes["title"] != p.Title {
			return false
		}
	}
	return true
}
