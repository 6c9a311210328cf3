package workflows_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/mapping"
)

// gate holds the requests it matches until it is opened, so a test can
// keep a cycle or a call in flight as long as it needs.
type gate struct {
	match   func(r *http.Request, body []byte) bool
	arrived chan struct{}
	open    chan struct{}
	first   sync.Once
	opening sync.Once
}

func newGate(match func(r *http.Request, body []byte) bool) *gate {
	return &gate{match: match, arrived: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if g.match(r, body) {
			g.first.Do(func() { close(g.arrived) })
			select {
			case <-g.open:
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// wait waits for the first request the gate holds.
func (g *gate) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-g.arrived:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not reach the target", what)
	}
}

func (g *gate) release() { g.opening.Do(func() { close(g.open) }) }

// gatedTarget serves the world's application behind gates, in order.
func gatedTarget(t *testing.T, w *world, gates ...*gate) {
	t.Helper()
	h := w.app.Handler()
	for _, g := range gates {
		h = g.wrap(h)
		t.Cleanup(g.release)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	w.job.Target.Connector.(*scim.Config).BaseURL = srv.URL + "/scim/v2"
}

// creates matches the creation of an account, whose JSON holds marker.
func creates(marker string, holds bool) func(*http.Request, []byte) bool {
	return func(r *http.Request, body []byte) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Users") && bytes.Contains(body, []byte(marker)) == holds
	}
}

// updateJobConfiguration sends the job a new configuration, as `starter
// update` does, and returns the job's status once it applied it.
func updateJobConfiguration(t *testing.T, c client.Client, job config.Job) api.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: api.JobWorkflowID(job.Name), UpdateName: api.UpdateConfiguration,
		Args: []any{job}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var st api.Status
	require.NoError(t, h.Get(ctx, &st))
	return st
}

// constantTitle returns a world's job whose mappings give every account
// the same title.
func constantTitle(job config.Job, title string) config.Job {
	attrs := append([]mapping.AttributeMapping{}, job.Objects[0].Attributes...)
	for i := range attrs {
		if attrs[i].Target == "title" {
			attrs[i] = mapping.AttributeMapping{Target: "title", Type: mapping.Constant, Value: title}
		}
	}
	job.Objects = []config.Object{job.Objects[0]}
	job.Objects[0].Attributes = attrs
	return job
}

// New mappings sent while a long initial cycle pushes are followed by an
// initial cycle with them at once, which brings every account in line.
func TestUpdateDuringLongInitialCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "remap")
	// Every account the initial cycle creates waits at the gate.
	hold := newGate(creates("userName", true))
	gatedTarget(t, w, hold)
	ps := people(20)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	hold.wait(t, "the initial cycle")

	st := updateJobConfiguration(t, c, constantTitle(w.job, "Staff"))
	require.NotNil(t, st.Current, "the update applied while the cycle ran")
	require.Equal(t, 1, st.Current.Number)
	require.Equal(t, api.Initial, st.NextKind)

	hold.release()
	waitCycle(t, c, w.job.Name, 1, time.Minute)
	// The job's interval is an hour: only the kept initial cycle runs now.
	st = waitCycle(t, c, w.job.Name, 2, time.Minute)
	require.Equal(t, api.Initial, st.LastCycle.Kind)
	require.Equal(t, api.Incremental, st.NextKind)
	users := w.users(t)
	require.Len(t, users, inScope(ps))
	for name, u := range users {
		require.Equal(t, "Staff", u.Attributes["title"], "%s has the new mapping's value", name)
	}
}

// A stop sent while the job waits for an on-demand update to finish before
// it continues as new stops the job: the next run is paused and runs no
// cycle.
func TestStopDuringOnDemandUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	// The job's first run is past this many events once its first cycle
	// ends, and continues as new at that point.
	const suggestAt = 20
	tmp := testenv.StartTemporal(t, "--dynamic-config-value", fmt.Sprintf("limit.historyCount.suggestContinueAsNew=%d", suggestAt))
	c := tmp.Client
	startWorker(t, c)
	w := newWorld(t, "stop-on-demand")
	const hire = "new.hire@example.com"
	cycle, onDemand := newGate(creates(hire, false)), newGate(creates(hire, true))
	gatedTarget(t, w, cycle, onDemand)
	ps := people(10)
	writeHR(t, w.hrPath, ps)
	startJob(t, c, w.job)
	cycle.wait(t, "the initial cycle")
	first := describeJob(t, c, w.job.Name)

	writeHR(t, w.hrPath, append(ps, person{ID: "E90000", UserName: hire, Given: "New", Family: "Hire", Title: "Engineer", Type: "Employee", Status: "Active"}))
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: api.JobWorkflowID(w.job.Name), UpdateName: api.UpdateProvisionOnDemand,
			Args: []any{api.OnDemandRequest{Type: "User", ID: "E90000"}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, new(api.OnDemandResult))
		}
		done <- err
	}()
	onDemand.wait(t, "the on-demand update")

	cycle.release()
	waitCycle(t, c, w.job.Name, 1, time.Minute)
	run := describeJob(t, c, w.job.Name)
	require.Equal(t, first.GetExecution().GetRunId(), run.GetExecution().GetRunId(), "the run waits for the update")
	require.GreaterOrEqual(t, run.GetHistoryLength(), int64(suggestAt), "the run is due to continue as new")

	signal(t, c, w.job.Name, api.SignalStop, nil)
	waitSignalled(t, c, w.job.Name, first.GetExecution().GetRunId(), api.SignalStop)
	onDemand.release()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the on-demand update did not complete")
	}
	require.Eventually(t, func() bool {
		return describeJob(t, c, w.job.Name).GetExecution().GetRunId() != first.GetExecution().GetRunId()
	}, time.Minute, 100*time.Millisecond, "the job continued as new")
	require.Eventually(t, func() bool {
		st, err := queryStatus(c, w.job.Name)
		return err == nil && st.State == api.Paused
	}, 10*time.Second, 100*time.Millisecond, "the stop reached the next run")

	signal(t, c, w.job.Name, api.SignalSyncNow, nil)
	time.Sleep(2 * time.Second)
	st := status(t, c, w.job.Name)
	require.Equal(t, api.Paused, st.State)
	require.Equal(t, 1, st.CycleNumber, "no cycle while stopped")
}

// While a new job's configuration is validated, the status query answers
// that it is; the job goes on to its first cycle once validation ends.
func TestStatusWhileJobValidates(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	c := tmp.Client
	validating := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	startWorker(t, c, holdValidation(func(ctx context.Context) error {
		close(validating)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}))
	w := newWorld(t, "validating")
	writeHR(t, w.hrPath, people(10))
	startJob(t, c, w.job)
	select {
	case <-validating:
	case <-time.After(time.Minute):
		t.Fatal("the job did not validate its configuration")
	}

	var st api.Status
	require.Eventually(t, func() bool {
		var err error
		st, err = queryStatus(c, w.job.Name)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "status answers while the job validates")
	require.Equal(t, api.Validating, st.State)
	require.Equal(t, w.job.Name, st.Job)
	require.Nil(t, st.LastCycle)

	once.Do(func() { close(release) })
	st = waitCycle(t, c, w.job.Name, 1, time.Minute)
	require.Equal(t, api.Running, st.State)
	require.Len(t, w.users(t), inScope(people(10)))
}

// holdValidation has a worker's ValidateJob activity call hold before it
// validates.
func holdValidation(hold func(context.Context) error) func(worker.Worker, *activities.Activities) {
	return func(w worker.Worker, acts *activities.Activities) {
		validate := func(ctx context.Context, job config.Job) (activities.ValidatedJob, error) {
			if err := hold(ctx); err != nil {
				return activities.ValidatedJob{}, err
			}
			return acts.ValidateJob(ctx, job)
		}
		w.RegisterActivityWithOptions(validate, activity.RegisterOptions{Name: "ValidateJob", DisableAlreadyRegisteredCheck: true})
	}
}

// describeJob returns the job's current run.
func describeJob(t *testing.T, c client.Client, job string) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	d, err := c.DescribeWorkflow(context.Background(), api.JobWorkflowID(job), "")
	require.NoError(t, err)
	return d.RawResponse.GetWorkflowExecutionInfo()
}

// waitSignalled waits until a run of the job has received the signal.
func waitSignalled(t *testing.T, c client.Client, job, runID, name string) {
	t.Helper()
	require.Eventually(t, func() bool {
		it := c.GetWorkflowHistory(context.Background(), api.JobWorkflowID(job), runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == name {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "run %s received %s", runID, name)
}
