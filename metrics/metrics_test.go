package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/metrics"
	"github.com/openprovisioning/provisioner/metrics/metricstest"
)

type checker struct{ err error }

func (c *checker) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, c.err
}

// /healthz says ok only while the worker polls and Temporal answers.
func TestHealth(t *testing.T) {
	temporal := &checker{}
	h := &metrics.Health{Client: temporal}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	check := func() (int, metrics.HealthReport) {
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		var r metrics.HealthReport
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		return resp.StatusCode, r
	}

	code, r := check()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, metrics.HealthReport{Status: "unavailable", Worker: metrics.WorkerStarting, Temporal: "ok"}, r)

	h.Polling()
	code, r = check()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, metrics.HealthReport{Status: "ok", Worker: metrics.WorkerPolling, Temporal: "ok"}, r)

	temporal.err = errors.New("connection refused")
	code, r = check()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, metrics.HealthReport{Status: "unavailable", Worker: metrics.WorkerPolling, Temporal: "connection refused"}, r)

	temporal.err = nil
	h.Stopped(errors.New("namespace not found"))
	code, r = check()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, metrics.HealthReport{Status: "unavailable", Worker: metrics.WorkerStopped, Temporal: "ok", Error: "namespace not found"}, r)
}

// Serve serves the metrics and the health endpoint on one listener.
func TestServe(t *testing.T) {
	e, err := metrics.NewExporter(func(err error) { t.Error(err) })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &metrics.Health{Client: &checker{}}
	h.Polling()
	addr, err := metrics.Serve(ctx, "127.0.0.1:0", e, h, func(err error) { t.Error(err) })
	require.NoError(t, err)

	metrics.CountEntries(e.Handler, "hr", []audit.Entry{
		{ObjectType: "User", Action: audit.Create, Status: audit.Success},
		{ObjectType: "User", Action: audit.Create, Status: audit.Success},
		{ObjectType: "User", Action: audit.Update, Status: audit.Failure},
		{ObjectType: "User", Action: audit.Create, Status: audit.Success, DryRun: true},
	})
	metrics.RecordCycle(e.Handler, "hr", "Initial", "succeeded", 90*time.Minute)
	metrics.RecordJob(e.Handler, metrics.Job{Name: "hr", State: "Paused", States: []string{"Running", "Paused"}, HeldDeletions: 12, Now: time.Unix(1_800_000_000, 0)})
	s := metricstest.Get(t, "http://"+addr.String()+"/metrics")

	v, _ := s.Value("provisioning_objects_total", map[string]string{"job_name": "hr", "object_type": "User", "action": "Create", "status": "Success"})
	require.EqualValues(t, 2, v)
	v, _ = s.Value("provisioning_objects_total", map[string]string{"action": "Update", "status": "Failure"})
	require.EqualValues(t, 1, v)
	v, _ = s.Value("provisioning_cycle_duration_seconds_sum", map[string]string{"job_name": "hr", "kind": "Initial", "outcome": "succeeded"})
	require.EqualValues(t, 5400, v)
	v, _ = s.Value("provisioning_cycle_duration_seconds_bucket", map[string]string{"job_name": "hr", "le": "7200"})
	require.EqualValues(t, 1, v, "hours-long cycles fall in buckets of their own")
	v, _ = s.Value("provisioning_job_state", map[string]string{"job_name": "hr", "state": "Paused"})
	require.EqualValues(t, 1, v)
	v, ok := s.Value("provisioning_job_state", map[string]string{"job_name": "hr", "state": "Running"})
	require.True(t, ok)
	require.Zero(t, v)
	v, _ = s.Value("provisioning_job_held_deletions", map[string]string{"job_name": "hr"})
	require.EqualValues(t, 12, v)
	_, ok = s.Value("provisioning_job_last_success_timestamp_seconds", nil)
	require.False(t, ok, "no cycle succeeded yet")
	v, _ = s.Value("provisioning_job_observed_timestamp_seconds", map[string]string{"job_name": "hr"})
	require.EqualValues(t, 1_800_000_000, v)
	require.True(t, s.Names()["go_goroutines"], "the process's own metrics")

	resp, err := http.Get("http://" + addr.String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Every provisioning metric the Grafana dashboard queries is one the
// worker records; the worker's integration test checks the SDK's too.
func TestDashboardQueriesProvisioningMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "grafana", "provisioning.json"))
	require.NoError(t, err)
	require.True(t, json.Valid(b))
	names := regexp.MustCompile(`\bprovisioning_[a-z0-9_]+\b`).FindAllString(string(b), -1)
	require.NotEmpty(t, names)
	exported := metrics.Exported()
	for _, n := range names {
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suffix); ok && strings.HasSuffix(b, "_seconds") {
				base = b
			}
		}
		require.True(t, slices.Contains(exported, base), "the dashboard queries %s, which is not a provisioning metric", n)
	}
}
