package history

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/audit"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeTemporal serves recorded runs by workflow and run ID, and a
// visibility listing; any other call panics on the nil embedded client.
type fakeTemporal struct {
	client.Client
	runs      map[string]*recordedRun // by workflow ID + "/" + run ID
	latest    map[string]string       // latest run ID by workflow ID
	listed    []*workflowpb.WorkflowExecutionInfo
	retention time.Duration
	read      []string // runs whose full history was read
}

func newFake() *fakeTemporal {
	return &fakeTemporal{runs: map[string]*recordedRun{}, latest: map[string]string{}, retention: 30 * 24 * time.Hour}
}

// recordedRun builds one run's events.
type recordedRun struct {
	workflowID, runID string
	parent            string // run ID of the job run that started it
	events            []*historypb.HistoryEvent
}

func (f *fakeTemporal) run(workflowID, runID string) *recordedRun {
	h := &recordedRun{workflowID: workflowID, runID: runID}
	f.runs[workflowID+"/"+runID] = h
	f.latest[workflowID] = runID
	return h
}

func (h *recordedRun) add(at time.Time, typ enumspb.EventType, attrs func(*historypb.HistoryEvent)) *recordedRun {
	ev := &historypb.HistoryEvent{EventId: int64(len(h.events) + 1), EventTime: timestamppb.New(at), EventType: typ}
	attrs(ev)
	h.events = append(h.events, ev)
	return h
}

func (h *recordedRun) started(at time.Time, prev string) *recordedRun {
	return h.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{ContinuedExecutionRunId: prev}}
	})
}

func (h *recordedRun) entries(t *testing.T, es ...audit.Entry) *recordedRun {
	return h.add(es[0].Time, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
			Result: &commonpb.Payloads{Payloads: payload(t, map[string]any{"entries": es})},
		}}
	})
}

// child records a cycle started as a child of this run, and returns the
// initiated event's ID.
func (h *recordedRun) child(at time.Time, c *recordedRun) int64 {
	c.parent = h.runID
	h.add(at, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
			WorkflowId: c.workflowID, WorkflowType: &commonpb.WorkflowType{Name: cycleWorkflowType},
		}}
	})
	initiated := int64(len(h.events))
	h.add(at, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
			InitiatedEventId: initiated, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: c.workflowID, RunId: c.runID},
		}}
	})
	return initiated
}

func (h *recordedRun) childDone(at time.Time, initiated int64) *recordedRun {
	return h.add(at, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{InitiatedEventId: initiated}}
	})
}

func (h *recordedRun) continuedAs(at time.Time, next string) *recordedRun {
	return h.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{NewExecutionRunId: next}}
	})
}

func (h *recordedRun) completed(at time.Time) *recordedRun {
	return h.add(at, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{}}
	})
}

func (h *recordedRun) info() *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: h.workflowID, RunId: h.runID},
		StartTime: h.events[0].GetEventTime(),
	}
	if h.parent != "" {
		info.ParentExecution = &commonpb.WorkflowExecution{RunId: h.parent}
	}
	if last := h.events[len(h.events)-1]; last.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW || last.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		info.CloseTime = last.GetEventTime()
	}
	return info
}

func (f *fakeTemporal) lookup(workflowID, runID string) (*recordedRun, error) {
	if runID == "" {
		runID = f.latest[workflowID]
	}
	h := f.runs[workflowID+"/"+runID]
	if h == nil {
		return nil, serviceerror.NewNotFound(fmt.Sprintf("workflow %s run %s not found", workflowID, runID))
	}
	return h, nil
}

func (f *fakeTemporal) DescribeWorkflow(_ context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error) {
	h, err := f.lookup(workflowID, runID)
	if err != nil {
		return nil, err
	}
	return &client.WorkflowExecutionDescription{RawResponse: &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: h.info()}}, nil
}

func (f *fakeTemporal) GetWorkflowHistory(_ context.Context, workflowID, runID string, _ bool, filter enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	h, err := f.lookup(workflowID, runID)
	if err != nil {
		return &events{err: err}
	}
	if filter == enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT {
		return &events{events: h.events[len(h.events)-1:]}
	}
	f.read = append(f.read, workflowID+"/"+runID)
	return &events{events: h.events}
}

func (f *fakeTemporal) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: f.listed}, nil
}

func (f *fakeTemporal) WorkflowService() workflowservice.WorkflowServiceClient {
	return namespaceService{retention: f.retention}
}

type namespaceService struct {
	workflowservice.WorkflowServiceClient
	retention time.Duration
}

func (s namespaceService) DescribeNamespace(context.Context, *workflowservice.DescribeNamespaceRequest, ...grpc.CallOption) (*workflowservice.DescribeNamespaceResponse, error) {
	return &workflowservice.DescribeNamespaceResponse{Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(s.retention)}}, nil
}

type events struct {
	events []*historypb.HistoryEvent
	err    error
}

func (e *events) HasNext() bool { return len(e.events) > 0 || e.err != nil }

func (e *events) Next() (*historypb.HistoryEvent, error) {
	if e.err != nil {
		err := e.err
		e.err = nil
		return nil, err
	}
	ev := e.events[0]
	e.events = e.events[1:]
	return ev, nil
}

func readAll(t *testing.T, f *fakeTemporal, since time.Time) ([]string, error) {
	t.Helper()
	var got []string
	err := ReadSince(context.Background(), f, "default", "hr", since, func(e audit.Entry) error {
		got = append(got, e.SourceID)
		return nil
	})
	return got, err
}

// entry is a log entry named by its source ID, made at.
func entry(id string, at time.Time) audit.Entry {
	return audit.Entry{Job: "hr", SourceID: id, Action: audit.Create, Status: audit.Success, Time: at}
}

// twoRunJob records a job whose first run ran cycle 1 (two runs through
// continue-as-new) and provisioned one object on demand, then continued
// as new; its second run runs cycle 2.
func twoRunJob(t *testing.T, t0 time.Time) *fakeTemporal {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	f := newFake()
	job := jobWorkflowID("hr")
	c1a := f.run(job+"/cycle-1", "c1a").started(at(1), "").entries(t, entry("a", at(2)), entry("b", at(3))).continuedAs(at(4), "c1b")
	f.run(job+"/cycle-1", "c1b").started(at(4), "c1a").entries(t, entry("c", at(5)), entry("d", at(7))).completed(at(8))
	run1 := f.run(job, "run1").started(at(0), "")
	done := run1.child(at(1), c1a)
	run1.entries(t, entry("on-demand", at(6))).childDone(at(8), done).continuedAs(at(9), "run2")
	run2 := f.run(job, "run2").started(at(9), "run1")
	c2 := f.run(job+"/cycle-2", "c2").started(at(10), "").entries(t, entry("e", at(11)))
	run2.child(at(10), c2)
	return f
}

func TestReadHistoryWalksRunsWithoutVisibility(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	f := twoRunJob(t, t0)
	got, err := readAll(t, f, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c", "on-demand", "d", "e"}, got, "every run, found from history; the job's entry merged in by time")

	// Since cycle 2 began: the first job run and cycle 1 are not read.
	f.read = nil
	got, err = readAll(t, f, t0.Add(10*time.Minute))
	require.NoError(t, err)
	require.Equal(t, []string{"e"}, got)
	require.ElementsMatch(t, []string{jobWorkflowID("hr") + "/run2", jobWorkflowID("hr") + "/cycle-2/c2"}, f.read)

	// Since midway through cycle 1: its first run closed before, unread.
	f.read = nil
	got, err = readAll(t, f, t0.Add(4*time.Minute+30*time.Second))
	require.NoError(t, err)
	require.Equal(t, []string{"c", "on-demand", "d", "e"}, got)
	require.NotContains(t, f.read, jobWorkflowID("hr")+"/cycle-1/c1a")
}

func TestReadHistoryEndsAtRetentionAndFailsOnAGap(t *testing.T) {
	job := jobWorkflowID("hr")
	// The job's first run is gone, and closed longer ago than retention.
	f := twoRunJob(t, time.Now().Add(-31*24*time.Hour))
	delete(f.runs, job+"/run1")
	delete(f.runs, job+"/cycle-1/c1a")
	delete(f.runs, job+"/cycle-1/c1b")
	got, err := readAll(t, f, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"e"}, got)

	// Within retention, a run that cannot be read is an error naming it.
	f = twoRunJob(t, time.Now().Add(-time.Hour))
	delete(f.runs, job+"/run1")
	_, err = readAll(t, f, time.Time{})
	require.ErrorContains(t, err, "workflow "+job+" run run1")

	f = twoRunJob(t, time.Now().Add(-time.Hour))
	delete(f.runs, job+"/cycle-1/c1b")
	_, err = readAll(t, f, time.Time{})
	require.ErrorContains(t, err, "workflow "+job+"/cycle-1 run c1b")
}

func TestReadHistoryFindsEveryExecutionAndStartingCycles(t *testing.T) {
	t0 := time.Now().Add(-2 * time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	job := jobWorkflowID("hr")
	f := twoRunJob(t, t0.Add(time.Hour))
	// An execution of the job that ended before it was started afresh.
	old := f.run(job, "old").started(at(0), "")
	oc := f.run(job+"/cycle-1", "old-c1").started(at(1), "").entries(t, entry("old", at(2))).completed(at(3))
	old.childDone(at(3), old.child(at(1), oc)).completed(at(4))
	f.latest[job] = "run2"
	f.listed = []*workflowpb.WorkflowExecutionInfo{old.info()}
	// The server made cycle 3 but had not recorded so in the job's history.
	run2 := f.runs[job+"/run2"]
	c3 := f.run(job+"/cycle-3", "c3").started(at(90), "").entries(t, entry("f", at(91)))
	c3.parent = "run2"
	run2.add(at(90), enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
			WorkflowId: c3.workflowID, WorkflowType: &commonpb.WorkflowType{Name: cycleWorkflowType},
		}}
	})
	got, err := readAll(t, f, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"old", "a", "b", "c", "on-demand", "d", "e", "f"}, got)
}
