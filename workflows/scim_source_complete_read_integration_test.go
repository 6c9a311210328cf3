package workflows_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/scimfault"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

// A SCIM source that pages by three sits behind an HTTP proxy which, from
// the second cycle on, ignores startIndex or loses users between pages.
// The job deletes and disables nobody: the read fails, and once the
// service answers properly again the cycle goes on. A deactivation made
// during a long read is seen by the next cycle.
func TestSCIMSourceCompleteRead(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)

	for _, tc := range []struct {
		name      string
		detection string
		fault     scimfault.Fault
		want      string
	}{
		{"delta source ignoring startIndex", scim.ChangeDetectionAuto, scimfault.IgnoreStartIndex, "does not page by startIndex"},
		{"delta source losing users between pages", scim.ChangeDetectionAuto, scimfault.DropBetweenPages, "lost some between pages"},
		{"snapshot source ignoring startIndex", scim.ChangeDetectionSnapshot, scimfault.IgnoreStartIndex, "does not page by startIndex"},
		{"snapshot source losing users between pages", scim.ChangeDetectionSnapshot, scimfault.DropBetweenPages, "lost some between pages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := faultyDirectory(t)
			d.cfg.ChangeDetection = tc.detection
			ids := d.people(t, 9)
			w := d.job(t, c, fmt.Sprintf("complete-read-%s-%d", tc.detection, tc.fault))
			waitCycle(t, c, w.job.Name, 1, time.Minute)
			everyoneActive(t, w, 9)

			require.NoError(t, d.admin.Update(context.Background(), connectors.User, ids[1], []connectors.Change{{Attribute: "title", Old: "Analyst", New: "Lead"}}))
			d.proxy.Set(tc.fault)
			signal(t, c, w.job.Name, api.SignalSyncNow, nil)
			failed := waitReadFailure(t, c, w.job.Name, 2, tc.want)
			require.Positive(t, d.proxy.Faulted())
			everyoneActive(t, w, 9)
			require.True(t, failed, "cycle 2 read the faulty service without failing")

			// Asked again properly, the service is read in full: the cycle
			// ends (a retried read) or the job reports why it stopped.
			d.proxy.Set(scimfault.None)
			st := waitSettled(t, c, w.job.Name, 2)
			everyoneActive(t, w, 9)
			if st.LastError != "" {
				require.Contains(t, st.LastError, tc.want)
			} else {
				require.Equal(t, "Lead", w.users(t)["person1@example.com"].Attributes["title"])
			}
		})
	}

	t.Run("deactivation during a long delta read", func(t *testing.T) {
		d := faultyDirectory(t)
		ids := d.people(t, 9)
		w := d.job(t, c, "complete-read-watermark")
		waitCycle(t, c, w.job.Name, 1, time.Minute)
		everyoneActive(t, w, 9)

		// While the second page of cycle 2's delta read is asked for,
		// person0, read on the first page, is deactivated, and person5,
		// on the page asked for, changes a second later.
		var armed atomic.Bool
		armed.Store(true)
		d.proxy.OnList(func(r *http.Request) {
			q := r.URL.Query()
			if !strings.Contains(q.Get("filter"), "meta.lastModified") || q.Get("startIndex") != "4" || !armed.CompareAndSwap(true, false) {
				return
			}
			ctx := context.Background()
			if err := d.admin.SetActive(ctx, connectors.User, ids[0], false); err != nil {
				t.Errorf("deactivate person0: %v", err)
			}
			time.Sleep(1100 * time.Millisecond) // meta.lastModified has whole seconds
			if err := d.admin.Update(ctx, connectors.User, ids[5], []connectors.Change{{Attribute: "title", Old: "Analyst", New: "Lead"}}); err != nil {
				t.Errorf("update person5: %v", err)
			}
		})
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		waitCycle(t, c, w.job.Name, 2, time.Minute)
		require.False(t, armed.Load(), "the read had a second page")
		require.Equal(t, "Lead", w.users(t)["person5@example.com"].Attributes["title"])

		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		waitCycle(t, c, w.job.Name, 3, time.Minute)
		require.False(t, active(w.users(t)["person0@example.com"]), "the deactivation made during cycle 2's read is provisioned by cycle 3")
	})
}

// directory is a sample application used as a SCIM source, paged by
// three, behind a proxy that misbehaves on demand.
type directory struct {
	cfg   *scim.Config // through the proxy
	admin *scim.Client // straight to the application
	proxy *scimfault.Proxy
}

func faultyDirectory(t *testing.T) *directory {
	t.Helper()
	const env = "TEST_SCIM_COMPLETE_READ_TOKEN"
	t.Setenv(env, "source-token")
	app := httptest.NewServer(sampleapp.New(sampleapp.Options{Token: "source-token", MaxResults: 3}).Handler())
	t.Cleanup(app.Close)
	u, err := url.Parse(app.URL)
	require.NoError(t, err)
	proxy := scimfault.New(httputil.NewSingleHostReverseProxy(u))
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	admin, err := (&scim.Config{BaseURL: app.URL + "/scim/v2", Token: secrets.Ref{Env: env}}).Open(context.Background(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	return &directory{cfg: &scim.Config{BaseURL: front.URL + "/scim/v2", Token: secrets.Ref{Env: env}}, admin: admin, proxy: proxy}
}

// people creates person0..person(n-1) and returns their ids.
func (d *directory) people(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id, err := d.admin.Create(context.Background(), connectors.User, connectors.Attributes{"userName": fmt.Sprintf("person%d@example.com", i), "title": "Analyst"})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

// job starts a job that provisions the directory's users into a new
// sample application, stopped when the test ends.
func (d *directory) job(t *testing.T, c client.Client, name string) *world {
	t.Helper()
	w := newWorld(t, name)
	w.job.Source = config.Source{Connector: d.cfg}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "id", MatchingPriority: 2},
		{Target: "title", Type: mapping.Direct, Source: "title"},
	}
	startJob(t, c, w.job)
	t.Cleanup(func() {
		_ = c.TerminateWorkflow(context.Background(), api.JobWorkflowID(name), "", "test over")
	})
	return w
}

// everyoneActive checks that the target holds n users, all active, and
// was never asked to delete one.
func everyoneActive(t *testing.T, w *world, n int) {
	t.Helper()
	users := w.users(t)
	require.Len(t, users, n)
	for name, u := range users {
		require.True(t, active(u), "%s was disabled", name)
	}
	require.Zero(t, w.app.Stats().Requests["DELETE /Users"])
}

// waitReadFailure waits until cycle n's fetch has failed with want (its
// activity, retried, or the job's last error) and reports whether it did:
// not when the cycle ended without.
func waitReadFailure(t *testing.T, c client.Client, job string, n int, want string) bool {
	t.Helper()
	cycle := fmt.Sprintf("%s/cycle-%d", api.JobWorkflowID(job), n)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var seen []string
		if d, err := c.DescribeWorkflow(context.Background(), cycle, ""); err == nil {
			for _, a := range d.RawResponse.GetPendingActivities() {
				if f := a.GetLastFailure(); f != nil {
					seen = append(seen, f.GetMessage())
				}
			}
		}
		st, err := queryStatus(c, job)
		if err == nil {
			seen = append(seen, st.LastError)
		}
		for _, s := range seen {
			if strings.Contains(s, want) {
				return true
			}
		}
		if err == nil && st.Current == nil && st.LastCycle != nil && st.LastCycle.Number >= n {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// waitSettled waits until cycle n has ended, or the job reports an error
// (a failed cycle, quarantine) with no cycle running.
func waitSettled(t *testing.T, c client.Client, job string, n int) api.Status {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := queryStatus(c, job)
		if err == nil && st.Current == nil && (st.LastCycle != nil && st.LastCycle.Number >= n || st.LastError != "") {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("cycle %d of %s did not end (last error: %v)", n, job, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
