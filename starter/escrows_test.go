package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/chromium"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// Objects the sample application refuses to create are listed by escrows
// (they have no object connection), counted by status and shown in the
// job's current details in the Web UI; held deletions are listed too.
func TestEscrowsAndHeldDeletions(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporalWithUI(t)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	t.Setenv(tokenEnv, "escrows-test-token")
	app := sampleapp.New(sampleapp.Options{Token: "escrows-test-token"})
	// The application refuses to create users whose userName starts with
	// "refused", as a target refuses values it does not accept.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/scim/v2/Users" {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(`"userName":"refused`)) {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"userName is not accepted here"}`))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		app.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	cfg := usersJob(t, dir, "escrows", srv.URL,
		"employeeId,userName,displayName\nE1,one@example.com,One\nE2,refused-two@example.com,Two Refused\nE3,three@example.com,Three\nE4,refused-four@example.com,Four Refused\nE5,five@example.com,Five\n",
		[]string{"{target: externalId, type: Direct, source: employeeId}", "{target: displayName, type: Direct, source: displayName}"})
	startWorkerProcess(t, e.address, filepath.Join(dir, "state.db"))
	e.ok("start", cfg)
	waitIdle(t, e, "escrows", 1)
	require.Len(t, app.Users(), 3)

	var st api.Status
	require.Eventually(t, func() bool {
		st = api.Status{}
		return json.Unmarshal([]byte(e.ok("status", "escrows", "--json")), &st) == nil && st.Escrows == 2
	}, 30*time.Second, 200*time.Millisecond, "status counts the escrows")

	t.Run("escrows lists failed creates with action, error, attempts and next attempt; status counts them", func(t *testing.T) {
		out := e.ok("escrows", "escrows")
		require.Regexp(t, `User\s+E2\s+Two Refused\s+Create\s+UnprocessableEntity\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+POST /Users: UnprocessableEntity \(400\): invalidValue: userName is not accepted here`, out)
		require.Regexp(t, `User\s+E4\s+Four Refused\s+Create\s+UnprocessableEntity\s+1\s+`, out)
		require.Contains(t, out, "2 of 2 User objects awaiting retry")
		require.NotContains(t, e.ok("connections", "escrows"), "E2", "a failed create has no object connection")

		out = e.ok("escrows", "escrows", "--limit", "1")
		require.Contains(t, out, "E2")
		require.NotContains(t, out, "E4")
		require.Contains(t, out, "more: --after E2")
		var page api.EscrowsResult
		require.NoError(t, json.Unmarshal([]byte(e.ok("escrows", "escrows", "--after", "E2", "--json")), &page))
		require.Equal(t, 2, page.Total)
		require.Len(t, page.Escrows, 1)
		require.Equal(t, "E4", page.Escrows[0].SourceID)
		require.Empty(t, page.Escrows[0].TargetID)
		require.True(t, page.Escrows[0].RetryAfter.After(time.Now()))

		require.Contains(t, e.ok("status", "escrows"), "escrows:      2 objects await retry after a failed attempt: starter escrows escrows")
		_, stderr, code := e.run("escrows", "escrows", "--type", "Group")
		require.Equal(t, exitInvalid, code)
		require.Contains(t, stderr, "does not provision Group objects")
	})

	t.Run("the job's current details in the Web UI show the escrows", func(t *testing.T) {
		desc, err := tmp.Client.DescribeWorkflow(context.Background(), api.JobWorkflowID("escrows"), "")
		require.NoError(t, err)
		run := desc.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		currentDetails(t, tmp.UI+"/namespaces/default/workflows/"+url.PathEscape(api.JobWorkflowID("escrows"))+"/"+run+"/user-metadata",
			"2 objects await retry", "User E2 (Two Refused): Create failed, UnprocessableEntity", "User E4 (Four Refused)")
	})

	t.Run("held deletions are listed, and shown in the Web UI", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "hr.csv"), []byte("employeeId,userName,displayName\n"), 0o600))
		e.ok("sync-now", "escrows")
		require.Eventually(t, func() bool {
			st = api.Status{}
			return json.Unmarshal([]byte(e.ok("status", "escrows", "--json")), &st) == nil && st.HeldDeletes > 0
		}, time.Minute, 200*time.Millisecond)
		out := e.ok("escrows", "escrows", "--held")
		require.Regexp(t, `StagedDelete\s+Skipped\s+User E1`, out)
		require.Regexp(t, `(?s)E1.*E3.*E5`, out)
		require.Contains(t, out, "3 of 3 held deletes and disables; approve them with: starter restart escrows --scope ForceDeletes")
		out = e.ok("escrows", "escrows", "--held", "--limit", "2")
		require.Contains(t, out, "more: --after E3")
		var held []audit.Entry
		require.NoError(t, json.Unmarshal([]byte(e.ok("escrows", "escrows", "--held", "--after", "E3", "--json")), &held))
		require.Len(t, held, 1)
		require.Equal(t, "E5", held[0].SourceID)

		desc, err := tmp.Client.DescribeWorkflow(context.Background(), api.JobWorkflowID("escrows"), "")
		require.NoError(t, err)
		run := desc.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		currentDetails(t, tmp.UI+"/namespaces/default/workflows/"+url.PathEscape(api.JobWorkflowID("escrows"))+"/"+run+"/user-metadata",
			"3 deletes and disables wait for approval", "starter escrows escrows --held", "- User E1", "Disable held by the accidental-deletion guard", "- User E5")
	})

	t.Run("the job's history, escrows counted after each cycle, replays", func(t *testing.T) {
		history := filepath.Join(dir, "job-history.json")
		shown := temporalCLI(t, e, "workflow", "show", "-o", "json", "-w", api.JobWorkflowID("escrows"))
		require.Contains(t, shown, `"name": "SummarizeEscrows"`)
		require.NoError(t, os.WriteFile(history, []byte(shown), 0o600))
		require.Contains(t, e.ok("replay", history), "ok   "+history+" (ProvisioningJob")
	})
}

// currentDetails waits until the job page's current details show every
// one of want. The Web UI fetches them when R is pressed and renders the
// markdown in a frame whose address carries it.
func currentDetails(t *testing.T, page string, want ...string) {
	t.Helper()
	p := chromium.Open(t, page)
	p.WaitText("Current Details")
	var shown string
	require.Eventually(t, func() bool {
		shown = chromium.Evaluate[string](p, `(() => {
			for (const type of ['keydown', 'keyup']) document.dispatchEvent(new KeyboardEvent(type, {key: 'r', code: 'KeyR', bubbles: true}));
			return Array.from(document.querySelectorAll('iframe')).map(f => decodeURIComponent(new URL(f.src, location.href).searchParams.get('content') || '')).join('\\n');
		})()`)
		for _, w := range want {
			if !strings.Contains(shown, w) {
				return false
			}
		}
		return true
	}, 30*time.Second, time.Second, "the current details do not show %q; they show:\n%s", want, shown)
}
