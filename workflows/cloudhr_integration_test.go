package workflows_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/api"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/httpexport"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/hrreport"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
)

// Cloud HR → app: a Workday report read over HTTPS into the sample
// application through the real job workflow. A changed report renames one
// worker and disables a leaver; an unchanged report costs one request,
// answered 304, and changes nothing; a report cut short fails its read and
// disables nobody, and a login page in its place quarantines the job; a new
// hire is provisioned on demand from the report.
func TestCloudHRReportToApp(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	hr := hrreport.Start(t)
	const passwordEnv = "PROVISIONING_SECRET_TEST_WORKDAY"
	t.Setenv(passwordEnv, hr.Password)
	hr.Set("application/json", hrreport.Workers(20, nil), `"v1"`, "")

	w := newWorld(t, "cloudhr")
	src := &httpexport.Config{URL: hr.URL + "/ccx/service/customreport2/acme/ISU_HR/Workers?format=json", CAFile: hr.CAFile, MaxRetries: 1}
	src.Basic = &scim.BasicAuth{Username: hr.User, Password: secrets.Ref{Env: passwordEnv}}
	src.RecordsPath, src.IDColumn, src.DisabledColumn, src.DisabledValues = "Report_Entry", "Employee_ID", "Active", []string{"0"}
	w.job.Source = config.Source{Connector: src}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "Email", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "Employee_ID", MatchingPriority: 2},
		{Target: "displayName", Type: mapping.Direct, Source: "Legal_Name"},
	}
	startJob(t, c, w.job)

	st := waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, 20, st.LastCycle.Counts.Of(audit.Create, audit.Success))
	require.Len(t, w.users(t), 20)

	t.Run("a changed report renames one worker and disables a leaver", func(t *testing.T) {
		w.app.ResetStats()
		hr.Set("application/json", hrreport.Workers(20, map[string]string{"21002": "Ada Lovelace"}, "21003"), `"v2"`, "")
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		st := waitCycle(t, c, w.job.Name, 2, time.Minute)
		require.Equal(t, 2, st.LastCycle.Staged)
		require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Update, audit.Success))
		require.Equal(t, 1, st.LastCycle.Counts.Of(audit.Disable, audit.Success))
		users := w.users(t)
		require.Equal(t, "Ada Lovelace", users["w2@acme.example"].Attributes["displayName"])
		require.False(t, active(users["w3@acme.example"]))
		require.Len(t, users, 20, "nothing is deleted")
	})

	t.Run("an unchanged report is one request answered 304", func(t *testing.T) {
		w.app.ResetStats()
		before := len(hr.Requests())
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		st := waitCycle(t, c, w.job.Name, 3, time.Minute)
		reqs := hr.Requests()[before:]
		require.Len(t, reqs, 1)
		require.Equal(t, http.StatusNotModified, reqs[0].Status)
		require.Equal(t, `"v2"`, reqs[0].Header.Get("If-None-Match"))
		require.Zero(t, st.LastCycle.Staged)
		require.Zero(t, st.LastCycle.Read)
		require.Empty(t, w.app.Stats().Requests, "nothing reaches the application")
	})

	t.Run("a report cut short disables nobody", func(t *testing.T) {
		w.app.ResetStats()
		whole := hrreport.Workers(20, map[string]string{"21002": "Ada Lovelace"}, "21003")
		hr.Answer(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Length", fmt.Sprint(len(whole)))
			rw.Header().Set("ETag", `"v3"`)
			rw.WriteHeader(http.StatusOK)
			rw.Write([]byte(whole[:len(whole)/3]))
			conn, _, _ := rw.(http.Hijacker).Hijack()
			conn.Close()
		})
		before := len(hr.Requests())
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		// The fetch fails and is retried: each attempt is cut short.
		require.Eventually(t, func() bool { return len(hr.Requests())-before >= 4 }, time.Minute, 100*time.Millisecond)
		require.Empty(t, w.app.Stats().Requests, "nothing reaches the application")
		for name, u := range w.users(t) {
			require.Equal(t, name != "w3@acme.example", active(u), name)
		}
		// The report whole again: the retried fetch finds it unchanged.
		hr.Set("application/json", whole, `"v2"`, "")
		st := waitCycle(t, c, w.job.Name, 4, 2*time.Minute)
		require.Zero(t, st.LastCycle.Staged)
		require.Empty(t, w.app.Stats().Requests)
	})

	t.Run("a login page quarantines the job and disables nobody", func(t *testing.T) {
		w.app.ResetStats()
		hr.Answer(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(rw, "<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>")
		})
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		require.Eventually(t, func() bool { return status(t, c, w.job.Name).State == api.Quarantined }, time.Minute, 100*time.Millisecond)
		st := status(t, c, w.job.Name)
		require.Contains(t, st.Quarantine.Reason, "an HTML page")
		require.Contains(t, st.Quarantine.Reason, hr.URL+"/ccx/service/customreport2/acme/ISU_HR/Workers")
		require.Empty(t, w.app.Stats().Requests, "nothing reaches the application")
		require.Len(t, w.users(t), 20)

		// Fixed, and released: the report is unchanged.
		hr.Set("application/json", hrreport.Workers(20, map[string]string{"21002": "Ada Lovelace"}, "21003"), `"v2"`, "")
		signal(t, c, w.job.Name, api.SignalRelease, nil)
		st = waitCycle(t, c, w.job.Name, st.LastCycle.Number+1, time.Minute)
		require.Equal(t, api.Running, st.State)
		require.Zero(t, st.LastCycle.Staged)
		require.Empty(t, w.app.Stats().Requests)
	})

	t.Run("a new hire is provisioned on demand from the report", func(t *testing.T) {
		hr.Set("application/json", hrreport.Workers(21, map[string]string{"21002": "Ada Lovelace"}, "21003"), `"v4"`, "")
		res := provisionOnDemand(t, c, w.job.Name, api.OnDemandRequest{Type: connectors.User, ID: "21021"})
		require.Equal(t, audit.Create, res.Object().Action, "%+v", res)
		require.Equal(t, audit.Success, res.Object().Status, "%+v", res)
		require.Equal(t, "Worker 21", w.users(t)["w21@acme.example"].Attributes["displayName"])

		w.app.ResetStats()
		next := status(t, c, w.job.Name).LastCycle.Number + 1
		signal(t, c, w.job.Name, api.SignalSyncNow, nil)
		st := waitCycle(t, c, w.job.Name, next, time.Minute)
		require.Zero(t, st.LastCycle.Staged, "the cycle finds the hire done")
		require.Zero(t, w.app.Stats().Requests["POST /Users"])
	})

	// The report's password, as set and as sent, is in no history.
	basic := base64.StdEncoding.EncodeToString([]byte(hr.User + ":" + hr.Password))
	resp, err := c.ListWorkflow(context.Background(), listRequest(`ProvisioningJob = "`+w.job.Name+`"`))
	require.NoError(t, err)
	require.NotEmpty(t, resp.Executions)
	assertNoSecret(t, historyJSON(t, c, api.JobWorkflowID(w.job.Name), ""), "history of the job", hr.Password, basic)
	for _, ex := range resp.Executions {
		assertNoSecret(t, historyJSON(t, c, ex.Execution.WorkflowId, ex.Execution.RunId), "history of "+ex.Execution.WorkflowId, hr.Password, basic)
	}
}
