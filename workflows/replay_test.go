package workflows_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/workflows"
)

// Recorded histories are named WORKFLOW-VERSION-….json[.gz]: the job or
// cycle workflow, the released workflow version that made them and, from
// v5 on, the kind of job (see recordedJobs).
var recordedName = regexp.MustCompile(`^(job|cycle)-(v([0-9]+))-(?:([a-z]+)-)?(?:run)?[0-9]+\.json(\.gz)?$`)

// kindsFrom is the first version recorded for every kind of job.
const kindsFrom = 5

// Every recorded history of every released workflow version replays
// against the current workflow code: a change that would break running
// jobs fails here. Both workflows of each version must have histories,
// and from v5 on, of every kind of job.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json*"))
	require.NoError(t, err)
	recorded := map[string]map[string]bool{} // version → workflow and kind
	for _, path := range files {
		m := recordedName.FindStringSubmatch(filepath.Base(path))
		require.NotNil(t, m, "%s: name recorded histories WORKFLOW-VERSION-[KIND-]N.json[.gz]", path)
		if recorded[m[2]] == nil {
			recorded[m[2]] = map[string]bool{}
		}
		recorded[m[2]][m[1]] = true
		recorded[m[2]][m[1]+" "+m[4]] = true
		t.Run(filepath.Base(path), func(t *testing.T) {
			require.NoError(t, replay(readHistory(t, path)))
		})
	}
	require.NotEmpty(t, recorded, "no recorded histories in testdata")
	for version, k := range recorded {
		require.True(t, k["job"] && k["cycle"], "version %s needs job and cycle histories", version)
		n, _ := strconv.Atoi(version[1:])
		for _, kind := range recordedJobs {
			if n >= kind.since {
				require.True(t, k["job "+kind.name] && k["cycle "+kind.name], "version %s needs histories of %s jobs", version, kind.name)
			}
		}
	}
}

// replay replays a recorded history against the current workflow code,
// with the data converter of the workers (codec.Codec's default).
func replay(h *historypb.History) error {
	r, err := worker.NewWorkflowReplayerWithOptions(codec.Codec{}.ReplayerOptions())
	if err != nil {
		return err
	}
	workflows.Register(r)
	// The job derives its cycles' workflow IDs from its own, so it replays
	// under the recorded ID, not the replayer's default.
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	if id == "" {
		return fmt.Errorf("the history names no workflow ID")
	}
	return r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
}

func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		require.NoError(t, err)
		defer gz.Close()
		r = gz
	}
	h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	require.NoError(t, err)
	return h
}

// recordEnv names the workflow version TestRecordHistories records, e.g.
// RECORD_HISTORIES=v2 once a change to the workflows is released.
const recordEnv = "RECORD_HISTORIES"

// Histories above this size are gzipped to keep the repository small.
const maxPlainHistory = 300 << 10

// recordedJob is a kind of job whose histories are recorded: record takes
// a job named name through its controls and returns its first run's ID.
type recordedJob struct {
	name   string
	record func(t *testing.T, c client.Client, name string) (runID string)
	// since is the first version recorded with this kind of job.
	since int
}

// recordedJobs are the kinds of job recorded: users from a file with every
// control, groups with memberships and references, an LDAP source, a
// held deletion approved with ForceDeletes, a job recorded with defaults
// other than those compiled in, and a job with a schedule.
var recordedJobs = []recordedJob{
	{"users", recordUsers, kindsFrom},
	{"groups", recordGroups, kindsFrom},
	{"ldap", recordLDAP, kindsFrom},
	{"held", recordHeld, kindsFrom},
	{"defaults", recordDefaults, kindsFrom},
	{"scheduled", recordScheduled, 7},
}

// The defaults the job of the defaults kind is recorded with, where its
// configuration leaves them: far from those compiled in, so a replay that
// read the compiled ones would cut other batches.
const (
	recordedBatchSize = 3
	recordedBatches   = 1
)

// TestRecordHistories runs a job of every kind on a dev server against the
// sample application, then writes the histories of the jobs and of their
// cycles into testdata, replacing those of the same version. The dev
// server suggests continue-as-new early, so runs continue as new.
func TestRecordHistories(t *testing.T) {
	version := os.Getenv(recordEnv)
	if version == "" {
		t.Skipf("set %s=vN to record the histories of workflow version N", recordEnv)
	}
	require.Regexp(t, `^v[0-9]+$`, version)
	out, err := filepath.Abs("testdata")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(out, 0o755))
	old, err := filepath.Glob(filepath.Join(out, "*-"+version+"-*"))
	require.NoError(t, err)
	for _, f := range old {
		require.NoError(t, os.Remove(f))
	}

	// Set before the worker starts, whose workflows read it.
	workflows.ResolveOtherDefaults(t, func(cfg config.Job) config.Job {
		if cfg.Name == "recorded-defaults" && cfg.Options.BatchSize == 0 && cfg.Options.Batches == 0 {
			cfg.Options.BatchSize, cfg.Options.Batches = recordedBatchSize, recordedBatches
		}
		return cfg
	})
	tmp := testenv.StartTemporal(t, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60")
	// A fixed identity keeps the host name out of the recorded events.
	c, err := client.Dial(client.Options{HostPort: tmp.Server.FrontendHostPort(), Identity: "recorder", Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	startWorker(t, c)
	for _, kind := range recordedJobs {
		t.Run(kind.name, func(t *testing.T) {
			// Relative source paths keep machine paths out of the recorded
			// job configuration; the in-process worker reads them from the
			// test's folder.
			t.Chdir(t.TempDir())
			name := "recorded-" + kind.name
			runID := kind.record(t, c, name)
			jobRuns, cycles := recordJob(t, c, out, version+"-"+kind.name, api.JobWorkflowID(name), runID)
			if kind.name == "users" {
				require.Greater(t, len(jobRuns), 1, "the job continued as new")
				started := map[string]int{}
				for _, h := range jobRuns {
					for _, ev := range h.GetEvents() {
						if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
							started[a.GetWorkflowExecution().GetWorkflowId()]++
						}
					}
				}
				resumed := false
				for _, n := range started {
					resumed = resumed || n > 1
				}
				require.True(t, resumed, "a stopped cycle was started again")
				continued := false
				for _, h := range cycles {
					continued = continued || lastEvent(h).GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
				}
				require.True(t, continued, "a cycle continued as new")
			}
		})
	}
}

// recordJob writes the histories of a job's runs and of the cycles they
// started, named job-PREFIX-runN and cycle-PREFIX-NN, and returns them.
func recordJob(t *testing.T, c client.Client, out, prefix, jobID, runID string) (jobRuns, cycles []*historypb.History) {
	t.Helper()
	jobRuns = runChain(t, c, jobID, runID)
	for i, h := range jobRuns {
		writeHistory(t, out, fmt.Sprintf("job-%s-run%d", prefix, i+1), h)
		for _, ev := range h.GetEvents() {
			if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				cycles = append(cycles, runChain(t, c, a.GetWorkflowExecution().GetWorkflowId(), a.GetWorkflowExecution().GetRunId())...)
			}
		}
	}
	require.NotEmpty(t, cycles, "the job ran cycles")
	for i, h := range cycles {
		writeHistory(t, out, fmt.Sprintf("cycle-%s-%02d", prefix, i+1), h)
	}
	return jobRuns, cycles
}

// startRecorded starts a job and returns its first run's ID.
func startRecorded(t *testing.T, c client.Client, job config.Job) string {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: api.JobWorkflowID(job.Name), TaskQueue: api.TaskQueue}, workflows.ProvisioningJob, workflows.JobInput{Config: job})
	require.NoError(t, err)
	return run.GetRunID()
}

// recordUsers takes a users-only job from a file through every control:
// see runControls.
func recordUsers(t *testing.T, c client.Client, name string) string {
	w := newWorld(t, name)
	w.hrPath = "hr.csv"
	w.job.Source.Connector.(*file.Config).Path = w.hrPath
	w.job.Options.BatchSize, w.job.Options.Batches = 5, 2
	// The last cycle's first change waits here for a configuration update.
	remap := newGate(func(r *http.Request, body []byte) bool {
		return r.Method == http.MethodPatch && bytes.Contains(body, []byte("Staff Engineer"))
	})
	gatedTarget(t, w, remap)
	ps := people(60)
	writeHR(t, w.hrPath, ps, `E99999,broken@example.com`)
	runID := startRecorded(t, c, w.job)
	runControls(t, c, w, ps, remap)
	return runID
}

// recordGroups runs a job of users and nested groups with manager
// references: memberships and references change, and a group is
// provisioned on demand.
func recordGroups(t *testing.T, c client.Client, name string) string {
	target, _ := sampleTarget(t, name)
	w := newGroupWorld(t, name, target, true)
	w.users, w.groups = "users.csv", "groups.csv"
	(*w.job.Source.Connector.(*file.Set))[0].Path, (*w.job.Source.Connector.(*file.Set))[1].Path = w.users, w.groups
	w.job.Options.BatchSize, w.job.Options.Batches = 2, 2
	w.emps = []employee{
		{ID: "E1", UserName: "ada@example.com"},
		{ID: "E2", UserName: "bob@example.com", Manager: "E1"},
		{ID: "E3", UserName: "cy@example.com", Manager: "E1"},
		{ID: "E4", UserName: "dee@example.com"},
		{ID: "E5", UserName: "eve@example.com", Manager: "E6"},
	}
	w.grps = []sourceGroup{
		{ID: "G1", Name: "Engineering", Members: []string{"E1", "E2", "E3"}},
		{ID: "G2", Name: "Sales", Members: []string{"E4"}},
		{ID: "G3", Name: "Everyone", Members: []string{"G1", "E5"}},
	}
	w.write(t)
	runID := startRecorded(t, c, w.job)
	waitCycle(t, c, name, 1, time.Minute)

	w.group("G1").Members = []string{"E1", "E3", "E4"}
	w.emps = append(w.emps, employee{ID: "E6", UserName: "fay@example.com"})
	st := w.sync(t, c, 2)
	require.Equal(t, []string{"ada@example.com", "cy@example.com", "dee@example.com"}, st.Groups["Engineering"])
	require.Equal(t, "active manager=fay@example.com", st.Users["eve@example.com"])

	w.grps = append(w.grps, sourceGroup{ID: "G4", Name: "Support", Members: []string{"E2", "E5"}})
	w.write(t)
	res := provisionOnDemand(t, c, name, api.OnDemandRequest{Type: "Group", ID: "G4"})
	require.Equal(t, audit.Create, res.Object().Action)
	require.Equal(t, []string{"bob@example.com", "eve@example.com"}, w.target.state(t).Groups["Support"])
	return runID
}

// recordLDAP runs a job reading an OpenLDAP directory: an initial cycle,
// then an incremental one with a modification, a new manager and a
// deletion.
func recordLDAP(t *testing.T, c client.Client, name string) string {
	dir := slapd.Start(t, slapd.Options{})
	var ldif strings.Builder
	for i := 1; i <= 8; i++ {
		extra := []string{fmt.Sprintf("employeeNumber: %d", 1000+i)}
		if i > 1 {
			extra = append(extra, "manager: uid=u01,"+slapd.People)
		}
		ldif.WriteString(personLDIF(fmt.Sprintf("u%02d", i), "Given", fmt.Sprintf("Family%02d", i), "Employee", extra...))
	}
	dir.Modify(t, ldif.String())
	// The password by environment: a file's path would be a machine path.
	const passwordEnv = "RECORDED_LDAP_PASSWORD"
	t.Setenv(passwordEnv, dir.RootPW)
	w := newWorld(t, name)
	conn := ldapConnection(dir, "")
	conn.BindPassword = secrets.Ref{Env: passwordEnv}
	w.job.Source = config.Source{Connector: &ldap.Config{
		Connection: conn, BaseDNs: []string{slapd.People},
		IDAttribute: "employeeNumber", Delta: ldap.DeltaModifyTimestamp,
	}}
	w.job.Objects[0].Scope = mapping.ScopingFilter{}
	w.job.Objects[0].Attributes = []mapping.AttributeMapping{
		{Target: "userName", Type: mapping.Direct, Source: "mail", MatchingPriority: 1},
		{Target: "externalId", Type: mapping.Direct, Source: "uid", MatchingPriority: 2},
		{Target: "name.familyName", Type: mapping.Direct, Source: "sn"},
		{Target: "title", Type: mapping.Direct, Source: "title"},
		{Target: managerAttr, Type: mapping.Direct, Source: "manager", Reference: "User"},
	}
	w.job.Options.BatchSize, w.job.Options.Batches = 3, 2
	runID := startRecorded(t, c, w.job)
	waitCycle(t, c, name, 1, time.Minute)
	require.Len(t, w.users(t), 8)

	dir.Modify(t, "dn: uid=u02,"+slapd.People+"\nchangetype: modify\nreplace: title\ntitle: Architect\n\n"+
		"dn: uid=u03,"+slapd.People+"\nchangetype: modify\nreplace: manager\nmanager: uid=u02,"+slapd.People+"\n\n"+
		"dn: uid=u04,"+slapd.People+"\nchangetype: delete\n\n")
	// The delta watermark trails the read by a few seconds.
	time.Sleep(2 * time.Second)
	signal(t, c, name, api.SignalSyncNow, nil)
	st := waitCycle(t, c, name, 2, time.Minute)
	require.Positive(t, st.LastCycle.Counts.Of(audit.Update, audit.Success), "the modifications reached the target: %v", st.LastCycle.Counts)
	return runID
}

// recordHeld runs a job whose export arrives empty: the deletion guard
// holds the disables, and a restart with ForceDeletes applies them.
func recordHeld(t *testing.T, c client.Client, name string) string {
	w := newWorld(t, name)
	w.hrPath = "hr.csv"
	w.job.Source.Connector.(*file.Config).Path = w.hrPath
	w.job.Options.BatchSize, w.job.Options.Batches = 5, 2
	ps := people(30)
	writeHR(t, w.hrPath, ps)
	runID := startRecorded(t, c, w.job)
	waitCycle(t, c, name, 1, time.Minute)

	writeHR(t, w.hrPath, nil)
	signal(t, c, name, api.SignalSyncNow, nil)
	st := heldBy(t, c, name)
	require.Equal(t, inScope(ps), st.HeldDeletes)
	signal(t, c, name, api.SignalRestart, api.RestartRequest{Scopes: []string{"ForceDeletes"}})
	st = waitCycle(t, c, name, 2, time.Minute)
	require.Equal(t, inScope(ps), st.LastCycle.Counts.Of(audit.Disable, audit.Success))
	return runID
}

// recordDefaults runs a job that leaves its batches to the defaults, which
// TestRecordHistories sets to others than those compiled in.
// recordScheduled records a job whose schedule's window is open all day:
// its cycles start at once, each start time recorded, as is quarantine's
// retry.
func recordScheduled(t *testing.T, c client.Client, name string) string {
	w := newWorld(t, name)
	w.hrPath = "hr.csv"
	w.job.Source.Connector.(*file.Config).Path = w.hrPath
	w.job.Schedule = &config.Schedule{Window: &config.Window{From: "00:00", To: "23:59"}}
	ps := people(10)
	writeHR(t, w.hrPath, ps)
	runID := startRecorded(t, c, w.job)
	waitCycle(t, c, name, 1, 2*time.Minute)
	ps[0].Title = "Architect"
	writeHR(t, w.hrPath, ps)
	signal(t, c, name, api.SignalSyncNow, nil)
	waitCycle(t, c, name, 2, time.Minute)
	signal(t, c, name, api.SignalQuarantine, nil)
	require.Eventually(t, func() bool { return status(t, c, name).State == api.Quarantined }, time.Minute, 50*time.Millisecond)
	signal(t, c, name, api.SignalRelease, nil)
	st := waitCycle(t, c, name, 3, time.Minute)
	require.Equal(t, "every day 00:00-23:59 (UTC)", st.Schedule)
	return runID
}

func recordDefaults(t *testing.T, c client.Client, name string) string {
	w := newWorld(t, name)
	w.hrPath = "hr.csv"
	w.job.Source.Connector.(*file.Config).Path = w.hrPath
	w.job.Options = config.Options{}
	ps := people(20)
	writeHR(t, w.hrPath, ps)
	runID := startRecorded(t, c, w.job)
	waitCycle(t, c, name, 1, time.Minute)
	for i := range ps[:7] {
		ps[i].Title = "Architect"
	}
	writeHR(t, w.hrPath, ps)
	signal(t, c, name, api.SignalSyncNow, nil)
	st := waitCycle(t, c, name, 2, time.Minute)
	require.Equal(t, 7, st.LastCycle.Counts.Of(audit.Update, audit.Success))
	return runID
}

// runControls takes the job through an initial cycle, provisioning on
// demand, sync-now, a stop in the middle of a cycle, a rollback and a
// start, quarantine and release, a restart, and new mappings sent while a
// cycle waits at the remap gate.
func runControls(t *testing.T, c client.Client, w *world, ps []person, remap *gate) {
	job := w.job.Name
	waitCycle(t, c, job, 1, time.Minute)

	ps = append(ps, person{ID: "E90000", UserName: "new.hire@example.com", Given: "New", Family: "Hire", Title: "Engineer", Type: "Employee", Status: "Active"})
	writeHR(t, w.hrPath, ps)
	res := provisionOnDemand(t, c, job, api.OnDemandRequest{Type: "User", ID: "E90000"})
	require.Equal(t, audit.Create, res.Object().Action)

	ps[0].Title = "Principal Engineer"
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, api.SignalSyncNow, nil)
	waitCycle(t, c, job, 2, time.Minute)

	// Every row changes, so cycle 3 runs long enough to be stopped midway.
	for i := range ps {
		ps[i].Title = "Architect"
	}
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, api.SignalSyncNow, nil)
	require.Eventually(t, func() bool {
		cur := status(t, c, job).Current
		return cur != nil && cur.Number == 3
	}, time.Minute, 10*time.Millisecond)
	signal(t, c, job, api.SignalStop, nil)
	require.Eventually(t, func() bool {
		st := status(t, c, job)
		return st.State == api.Paused && st.Current == nil
	}, time.Minute, 50*time.Millisecond)
	rollBack(t, c, job, "2")
	signal(t, c, job, api.SignalStart, nil)
	waitCycle(t, c, job, 3, time.Minute)

	signal(t, c, job, api.SignalQuarantine, nil)
	require.Eventually(t, func() bool { return status(t, c, job).State == api.Quarantined }, 10*time.Second, 50*time.Millisecond)
	signal(t, c, job, api.SignalRelease, nil)
	waitCycle(t, c, job, 4, time.Minute)

	signal(t, c, job, api.SignalRestart, api.RestartRequest{Scopes: []string{"Full"}})
	st := waitCycle(t, c, job, 5, time.Minute)
	require.Equal(t, api.Initial, st.LastCycle.Kind)
	require.Len(t, w.users(t), inScope(ps))

	for i := range ps {
		ps[i].Title = "Staff Engineer"
	}
	writeHR(t, w.hrPath, ps)
	signal(t, c, job, api.SignalSyncNow, nil)
	remap.wait(t, "cycle 6")
	st = updateJobConfiguration(t, c, constantTitle(w.job, "Staff"))
	require.NotNil(t, st.Current, "the update arrived during cycle 6")
	remap.release()
	waitCycle(t, c, job, 6, time.Minute)
	st = waitCycle(t, c, job, 7, time.Minute)
	require.Equal(t, api.Initial, st.LastCycle.Kind, "the new mappings' initial cycle")
}

// runChain returns the histories of a workflow's runs from runID on,
// following continue-as-new.
func runChain(t *testing.T, c client.Client, workflowID, runID string) []*historypb.History {
	t.Helper()
	var out []*historypb.History
	for runID != "" {
		h := readRun(t, c, workflowID, runID)
		// A run that has only just started cannot be replayed: wait for
		// its first workflow task to complete.
		for deadline := time.Now().Add(10 * time.Second); len(h.GetEvents()) < 3 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			h = readRun(t, c, workflowID, runID)
		}
		require.GreaterOrEqual(t, len(h.GetEvents()), 3, "run %s of %s completed no workflow task", runID, workflowID)
		out = append(out, h)
		runID = lastEvent(h).GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	return out
}

// readRun reads the events of one run as they are now.
func readRun(t *testing.T, c client.Client, workflowID, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

func lastEvent(h *historypb.History) *historypb.HistoryEvent {
	return h.GetEvents()[len(h.GetEvents())-1]
}

// writeHistory writes a history as JSON that client.HistoryFromJSON and
// `temporal workflow show` read, gzipped when large, after checking that
// no machine path or host name made it into the events.
func writeHistory(t *testing.T, dir, name string, h *historypb.History) {
	t.Helper()
	raw, err := proto.Marshal(h)
	require.NoError(t, err)
	host, _ := os.Hostname()
	for _, s := range []string{testenv.RepoRoot(), filepath.Clean(os.TempDir()) + string(filepath.Separator), host} {
		// A very short host name would match by chance in encoded data.
		if len(s) > 3 {
			require.False(t, bytes.Contains(raw, []byte(s)), "%s: the history holds %q", name, s)
		}
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	path := filepath.Join(dir, name+".json")
	if len(b) > maxPlainHistory {
		var z bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, err := gz.Write(b)
		require.NoError(t, err)
		require.NoError(t, gz.Close())
		path, b = path+".gz", z.Bytes()
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
	t.Logf("recorded %s (%d events, %d bytes)", filepath.Base(path), len(h.GetEvents()), len(b))
}

// rollBack rolls the job back to before a cycle, as `starter rollback`
// does, and checks something was restored.
func rollBack(t *testing.T, c client.Client, job, cycle string) {
	t.Helper()
	var all []audit.Entry
	var since time.Time
	require.NoError(t, history.Read(context.Background(), c, "default", job, func(e audit.Entry) error {
		all = append(all, e)
		if (audit.Filter{CycleID: cycle}).Match(e) && (since.IsZero() || e.Time.Before(since)) {
			since = e.Time
		}
		return nil
	}))
	require.False(t, since.IsZero(), "cycle %s is in the log", cycle)
	plan := audit.PlanRollback(all, since)
	require.NotEmpty(t, plan.Restores)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: api.JobWorkflowID(job), UpdateName: api.UpdateRollback,
		Args: []any{plan}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var res api.RollbackResult
	require.NoError(t, h.Get(ctx, &res))
	require.Len(t, res.Entries, len(plan.Restores))
	for _, e := range res.Entries {
		require.Equal(t, audit.Success, e.Status, e.Reason)
	}
}
