// Package metrics exports the worker's metrics to Prometheus: the Temporal
// SDK's own (workers, pollers, workflow and activity tasks, requests) and
// the provisioning metrics below, which the activities and the job
// workflow record through the SDK's metrics handler. The workflow's are
// replay-safe: the SDK drops metrics recorded while a workflow replays.
package metrics

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Provisioning metrics, by the names the SDK's handler takes. Prometheus
// adds _total to counters and _seconds to timers (see Exported).
const (
	// Objects counts provisioning log entries as activities return them:
	// labels job_name, object_type, action, status. Dry runs are not counted.
	Objects = "provisioning_objects"
	// CycleDuration times cycles, from start (or resume) to end: labels
	// job_name, kind, outcome.
	CycleDuration = "provisioning_cycle_duration"
	// EscrowedObjects is how many objects wait in escrow for a retry, when
	// a cycle starts and when it completes: labels job_name, object_type.
	EscrowedObjects = "provisioning_escrowed_objects"
	// EscrowCounted is when this worker last counted a job's escrows.
	EscrowCounted = "provisioning_escrow_counted_timestamp_seconds"
	// JobState is 1 for the job's state and 0 for the others: labels
	// job_name, state.
	JobState = "provisioning_job_state"
	// HeldDeletions is how many deletes and disables wait for approval.
	HeldDeletions = "provisioning_job_held_deletions"
	// LastSuccess is when the job's last cycle that succeeded ended.
	LastSuccess = "provisioning_job_last_success_timestamp_seconds"
	// JobObserved is when this worker last recorded the job's gauges: a
	// job's workflow runs on one worker at a time, so with several workers
	// the job's current gauges are those of the worker that observed it last.
	JobObserved = "provisioning_job_observed_timestamp_seconds"
)

// Labels of the provisioning metrics. The job's is job_name: Prometheus
// sets job to the scrape job's name.
const (
	LabelJob        = "job_name"
	LabelObjectType = "object_type"
	LabelAction     = "action"
	LabelStatus     = "status"
	LabelKind       = "kind"
	LabelOutcome    = "outcome"
	LabelState      = "state"
)

// Exported returns the Prometheus names of the provisioning metrics, as
// a scrape shows them (a histogram's series add _bucket, _sum and _count).
func Exported() []string {
	return []string{
		Objects + "_total", CycleDuration + "_seconds", EscrowedObjects, EscrowCounted,
		JobState, HeldDeletions, LastSuccess, JobObserved,
	}
}

// Exporter is a metrics handler for the Temporal client, and so for the
// workflows and activities its worker runs, whose metrics a Prometheus
// endpoint serves.
type Exporter struct {
	// Handler records the metrics: set it as the client's MetricsHandler.
	Handler  client.MetricsHandler
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
}

// durationBuckets are the bounds, in seconds, of every timer's histogram:
// from the SDK's request latencies to cycles of hours.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400}

// NewExporter returns an exporter; onError hears of metrics the handler
// could not record (the SDK's handler would panic).
func NewExporter(onError func(error)) (*Exporter, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	view := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: durationBuckets}})
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(view))
	h := temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:   mp.Meter("github.com/openprovisioning/provisioner"),
		OnError: onError,
		// Counters are exported as Prometheus counters, with _total.
		UseMonotonicCounters: true,
	})
	return &Exporter{Handler: h, registry: reg, provider: mp}, nil
}

// HTTPHandler serves the metrics in Prometheus's text format.
func (e *Exporter) HTTPHandler() http.Handler {
	return promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{})
}

// Close stops the exporter.
func (e *Exporter) Close(ctx context.Context) error { return e.provider.Shutdown(ctx) }
