package main

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/api"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/chromium"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// Every signal and update an operator needs is sent from the job's page in
// the Web UI, as an operator would, and has its effect on the job and on
// the target.
func TestWebUISteersJob(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporalWithUI(t)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	t.Setenv(tokenEnv, "webui-test-token")
	app := sampleapp.New(sampleapp.Options{Token: "webui-test-token"})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	hr := filepath.Join(dir, "hr.csv")
	cfg := usersJob(t, dir, "webui", srv.URL, "employeeId,userName\nE1,one@example.com\nE2,two@example.com\n",
		[]string{"{target: externalId, type: Direct, source: employeeId}"})
	startWorkerProcess(t, e.address, filepath.Join(dir, "state.db"))
	e.ok("start", cfg)
	waitIdle(t, e, "webui", 1)
	require.Len(t, app.Users(), 2)

	status := func() api.Status {
		var s api.Status
		require.NoError(t, json.Unmarshal([]byte(e.ok("status", "webui", "--json")), &s))
		return s
	}
	waitState := func(want api.State) {
		t.Helper()
		require.Eventually(t, func() bool { return status().State == want }, time.Minute, 200*time.Millisecond, "state %s", want)
	}
	ui := tmp.UI + "/namespaces/default/workflows/" + url.PathEscape(api.JobWorkflowID("webui"))

	t.Run("stop pauses the job and start resumes it", func(t *testing.T) {
		sendFromJobPage(t, ui, "signal", api.SignalStop, "")
		waitState(api.Paused)
		sendFromJobPage(t, ui, "signal", api.SignalStart, "")
		waitState(api.Running)
	})

	t.Run("quarantine backs off to a day and release runs a cycle now", func(t *testing.T) {
		sendFromJobPage(t, ui, "signal", api.SignalQuarantine, "")
		waitState(api.Quarantined)
		q := status().Quarantine
		require.NotNil(t, q)
		require.Equal(t, "QuarantinedOnDemand", q.Reason)
		require.WithinDuration(t, time.Now().Add(24*time.Hour), q.NextAttempt, time.Hour)

		before := status().LastCycle.Number
		sendFromJobPage(t, ui, "signal", api.SignalRelease, "")
		waitState(api.Running)
		waitIdle(t, e, "webui", before+1)
		require.Nil(t, status().Quarantine)
	})

	t.Run("restart with a reset scope runs an initial cycle", func(t *testing.T) {
		last := status().LastCycle
		require.Equal(t, api.Incremental, last.Kind, "the release ran an incremental cycle")
		sendFromJobPage(t, ui, "signal", api.SignalRestart, `{"scopes":["Full"]}`)
		waitIdle(t, e, "webui", last.Number+1)
		now := status().LastCycle
		require.Equal(t, api.Initial, now.Kind)
		require.Equal(t, 2, now.Read)
		require.Len(t, app.Users(), 2, "the initial cycle matched the accounts it had created")
	})

	t.Run("provision-on-demand provisions one new user without a cycle", func(t *testing.T) {
		cycles := status().LastCycle.Number
		require.NoError(t, os.WriteFile(hr, []byte("employeeId,userName\nE1,one@example.com\nE2,two@example.com\nE3,three@example.com\n"), 0o600))
		sendFromJobPage(t, ui, "update", api.UpdateProvisionOnDemand, `{"type":"User","id":"E3"}`)
		require.Eventually(t, func() bool { return len(app.Users()) == 3 }, time.Minute, 200*time.Millisecond)
		require.Equal(t, cycles, status().LastCycle.Number, "no cycle ran")
	})

	t.Run("a job with a schedule waits for it, and status shows it", func(t *testing.T) {
		app2 := sampleapp.New(sampleapp.Options{Token: "webui-test-token"})
		srv2 := httptest.NewServer(app2.Handler())
		t.Cleanup(srv2.Close)
		hrNow, err := os.ReadFile(hr)
		require.NoError(t, err)
		scheduled := usersJob(t, dir, "scheduled", srv2.URL, string(hrNow), nil, `schedule: {cron: "* * * * *"}`)
		e.ok("start", scheduled)
		var st api.Status
		require.Eventually(t, func() bool {
			out, _, code := e.run("status", "scheduled", "--json")
			return code == 0 && json.Unmarshal([]byte(out), &st) == nil && !st.NextRun.IsZero()
		}, time.Minute, 200*time.Millisecond)
		require.Equal(t, `cron "* * * * *" (UTC)`, st.Schedule)
		require.Zero(t, st.NextRun.Second(), "the next minute the expression names: %s", st.NextRun)
		require.Contains(t, e.ok("status", "scheduled"), `schedule:     cron "* * * * *" (UTC)`)
		if time.Until(st.NextRun) > 2*time.Second {
			require.Empty(t, app2.Users(), "nothing is pushed before the schedule allows")
		}
		time.Sleep(time.Until(st.NextRun))
		waitIdle(t, e, "scheduled", 1)
		require.Len(t, app2.Users(), 3)
		var after api.Status
		require.NoError(t, json.Unmarshal([]byte(e.ok("status", "scheduled", "--json")), &after))
		require.False(t, after.LastCycle.Started.Before(st.NextRun), "the cycle started at %s, before %s", after.LastCycle.Started, st.NextRun)
	})
}

// sendFromJobPage opens the job's page in the Web UI and sends a signal or
// an update (kind), with input as its JSON argument when not empty.
func sendFromJobPage(t *testing.T, jobPage, kind, name, input string) {
	t.Helper()
	page := chromium.Open(t, jobPage)
	page.WaitText("More Actions")
	dialog := "dialog[open][data-testid=" + kind + "-confirmation-modal]"
	page.Until(dialog, func() {
		page.ClickButton("More Actions")
		page.Click(`[data-testid=` + kind + `-button]`)
	})
	// Once the UI has asked the worker for the job's handlers it offers
	// them in a list, which replaces the field for a typed name.
	listed := dialog + ` [data-testid=` + kind + `-select-button]`
	deadline := time.Now().Add(10 * time.Second)
	for !page.Visible(listed) && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if page.Visible(listed) {
		page.Until(dialog+` li[role=option]`, func() { page.Click(listed) })
		page.ClickText(dialog+` li[role=option]`, name)
	} else {
		page.Type(dialog+` #`+kind+`-name`, name)
	}
	if input != "" {
		page.Insert(dialog+` [contenteditable=true][data-language=json]`, input)
	}
	page.Click(dialog + ` [data-testid=confirm-modal-button]:not([disabled])`)
	require.Eventually(t, func() bool { return !page.Visible(dialog) }, 30*time.Second, 250*time.Millisecond, "the %s dialog did not close", kind)
}
