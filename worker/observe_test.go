package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/smtpsink"
	"github.com/openprovisioning/provisioner/internal/testenv/webhooksink"
	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/metrics/metricstest"
	"github.com/openprovisioning/provisioner/notify"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/workflows"
)

// The worker binary with -metrics-listen serves the SDK's metrics and the
// provisioning metrics, scraped while a cycle waits at the target and
// after it, and says on /healthz that it polls; every metric the Grafana
// dashboard queries is among them. With a webhook and an SMTP server
// configured, the job's quarantine and its release are each notified
// once, signed, to both.
func TestWorkerMetricsAndNotices(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	bin := testenv.Build(t, "./worker")

	const token = "observe-test-token"
	app := sampleapp.New(sampleapp.Options{Token: token})
	gate := make(chan struct{})
	var held atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			// Creates wait at the gate, so the test scrapes during the cycle.
			held.Add(1)
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
			if bytes.Contains(body, []byte("refused@example.com")) {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"refused"}`))
				return
			}
		}
		app.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(target.Close)
	hr := filepath.Join(t.TempDir(), "hr.csv")
	require.NoError(t, os.WriteFile(hr, []byte("employeeId,userName\nE1,ada@example.com\nE2,bob@example.com\nE3,refused@example.com\n"), 0o600))

	hook := webhooksink.Start(t, "webhook-secret")
	mail := smtpsink.Start(t, "alerts", "mail-password")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, append(readFile(t, hook.CAFile), readFile(t, mail.CAFile)...), 0o600))

	addr := freeAddr(t)
	cmd := exec.Command(bin, "-address", tmp.Server.FrontendHostPort(), "-state", filepath.Join(t.TempDir(), "state.db"), "-log-format", "json", "-log-level", "warn",
		"-metrics-listen", addr,
		"-notify-webhook", hook.URL+"/provisioning", "-notify-webhook-secret-env", "OBSERVE_TEST_WEBHOOK_SECRET",
		"-notify-smtp", "smtp://alerts@"+mail.Addr, "-notify-smtp-password-env", "OBSERVE_TEST_SMTP_PASSWORD",
		"-notify-from", "provisioning@example.com", "-notify-to", "iam-team@example.com", "-notify-ca", ca)
	cmd.Env = append(os.Environ(), "PROVISIONING_SECRET_OBSERVE_TEST="+token, "OBSERVE_TEST_WEBHOOK_SECRET=webhook-secret", "OBSERVE_TEST_SMTP_PASSWORD=mail-password")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	base := "http://" + addr

	var health metrics.HealthReport
	eventually(t, "the worker reports that it polls", func() bool {
		code, body := get(base + "/healthz")
		health = metrics.HealthReport{}
		_ = json.Unmarshal(body, &health)
		return code == http.StatusOK
	})
	require.Equal(t, metrics.HealthReport{Status: "ok", Worker: metrics.WorkerPolling, Temporal: "ok"}, health)

	job, err := config.Parse(fmt.Appendf(nil, `name: observed
interval: 1h
source:
  file: {path: %q, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "%s/scim/v2", token: {env: PROVISIONING_SECRET_OBSERVE_TEST}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
`, hr, target.URL))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = tmp.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: api.JobWorkflowID(job.Name), TaskQueue: api.TaskQueue},
		workflows.ProvisioningJob, workflows.JobInput{Config: *job})
	require.NoError(t, err)
	jobLabels := map[string]string{metrics.LabelJob: "observed"}
	state := func(s metricstest.Scrape, st api.State) float64 {
		v, _ := s.Value(metrics.JobState, map[string]string{metrics.LabelJob: "observed", metrics.LabelState: string(st)})
		return v
	}

	t.Run("during the cycle", func(t *testing.T) {
		eventually(t, "creates wait at the target", func() bool { return held.Load() > 0 })
		s := metricstest.Get(t, base+"/metrics")
		require.EqualValues(t, 1, state(s, api.Running))
		escrowed, ok := s.Value(metrics.EscrowedObjects, map[string]string{metrics.LabelJob: "observed", metrics.LabelObjectType: "User"})
		require.True(t, ok, "counted as the cycle started")
		require.Zero(t, escrowed)
		_, ok = s.Value(metrics.CycleDuration+"_seconds_count", jobLabels)
		require.False(t, ok, "no cycle ended yet")
		fetches, _ := s.Value("temporal_activity_execution_latency_seconds_count", map[string]string{"activity_type": "FetchChanges"})
		require.EqualValues(t, 1, fetches, "the SDK's own metrics")
		code, _ := get(base + "/healthz")
		require.Equal(t, http.StatusOK, code)
	})

	close(gate)
	var s metricstest.Scrape
	t.Run("after the cycle", func(t *testing.T) {
		eventually(t, "the cycle ends", func() bool {
			s = metricstest.Get(t, base+"/metrics")
			n, _ := s.Value(metrics.CycleDuration+"_seconds_count", map[string]string{metrics.LabelJob: "observed", metrics.LabelOutcome: "succeeded", metrics.LabelKind: "Initial"})
			return n == 1
		})
		objects := func(status string) float64 {
			v, _ := s.Value(metrics.Objects+"_total", map[string]string{metrics.LabelJob: "observed", metrics.LabelObjectType: "User", metrics.LabelAction: "Create", metrics.LabelStatus: status})
			return v
		}
		require.EqualValues(t, 2, objects("Success"))
		require.EqualValues(t, 1, objects("Failure"))
		escrowed, _ := s.Value(metrics.EscrowedObjects, map[string]string{metrics.LabelJob: "observed", metrics.LabelObjectType: "User"})
		require.EqualValues(t, 1, escrowed, "the refused user waits in escrow")
		last, _ := s.Value(metrics.LastSuccess, jobLabels)
		require.InDelta(t, float64(time.Now().Unix()), last, 120)
		heldDeletions, ok := s.Value(metrics.HeldDeletions, jobLabels)
		require.True(t, ok)
		require.Zero(t, heldDeletions)
	})

	// The mail server fails the first notice, which is retried: the
	// webhook, which took it, does not get it again.
	t.Run("quarantine and release are notified once each", func(t *testing.T) {
		mail.FailData(1)
		require.NoError(t, tmp.Client.SignalWorkflow(ctx, api.JobWorkflowID("observed"), "", api.SignalQuarantine, nil))
		eventually(t, "the quarantine is notified", func() bool { n, _, _ := hook.Notices(); return len(n) == 1 && len(mail.Messages()) == 1 })
		eventually(t, "the gauge shows the quarantine", func() bool { return state(metricstest.Get(t, base+"/metrics"), api.Quarantined) == 1 })
		require.NoError(t, tmp.Client.SignalWorkflow(ctx, api.JobWorkflowID("observed"), "", api.SignalRelease, nil))
		eventually(t, "the release is notified", func() bool { n, _, _ := hook.Notices(); return len(n) == 2 && len(mail.Messages()) == 2 })
		time.Sleep(2 * time.Second)

		notices, headers, refused := hook.Notices()
		require.Empty(t, refused)
		require.Len(t, notices, 2, "one notice per change")
		require.Equal(t, notify.Quarantined, notices[0].Event)
		require.Equal(t, "QuarantinedOnDemand", notices[0].Reason)
		require.Equal(t, notify.Recovered, notices[1].Event)
		require.Equal(t, notify.Quarantined, notices[1].From)
		require.NotEqual(t, notices[0].ID, notices[1].ID)
		require.True(t, strings.HasPrefix(notices[0].ID, api.JobWorkflowID("observed")+"/"), notices[0].ID)
		require.Equal(t, notices[0].ID, headers[0].Get(notify.HeaderIdempotency))

		msgs := mail.Messages()
		require.Len(t, msgs, 2)
		require.True(t, msgs[0].TLS)
		require.Contains(t, msgs[0].Data, "Subject: Provisioning job observed is in quarantine")
		require.Contains(t, msgs[1].Data, "Subject: Provisioning job observed runs again")
		s = metricstest.Get(t, base+"/metrics")
		require.EqualValues(t, 1, state(s, api.Running))
		failed, _ := s.Value("temporal_activity_execution_failed_total", map[string]string{"activity_type": "Notify"})
		require.EqualValues(t, 1, failed, "the notice was sent twice, the webhook's once")
	})

	t.Run("the dashboard queries only metrics the worker exports", func(t *testing.T) {
		names := s.Names()
		for _, m := range dashboardMetrics(t) {
			require.True(t, names[m], "the dashboard queries %s, which the worker does not export", m)
		}
	})
}

// dashboardMetrics returns the metrics the Grafana dashboard's queries name.
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(testenv.RepoRoot(), dashboard)), &d))
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		exprs = append(exprs, fmt.Sprint(v.Query))
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range exprs {
		for _, m := range metricName.FindAllString(e, -1) {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// dashboard is the Grafana dashboard of the worker's metrics.
const dashboard = "deploy/grafana/provisioning.json"

var metricName = regexp.MustCompile(`\b(?:provisioning|temporal)_[a-z0-9_]+\b`)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func get(url string) (int, []byte) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
