package workflows_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/history"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/openprovisioning/provisioner/store/sqlite"
	"github.com/openprovisioning/provisioner/workflows"
)

const tokenEnv = "PROVISIONING_SECRET_TEST_SAMPLEAPP"

// person is one row of a test HR export.
type person struct {
	ID, UserName, Given, Family, Title, Type, Status string
}

func people(n int) []person {
	out := make([]person, n)
	for i := range out {
		typ := "Employee"
		if i%10 == 9 {
			typ = "Contractor"
		}
		out[i] = person{ID: fmt.Sprintf("E%05d", i+1), UserName: fmt.Sprintf("user%05d@example.com", i+1), Given: "Given" + fmt.Sprint(i+1),
			Family: "Family", Title: "Engineer", Type: typ, Status: "Active"}
	}
	return out
}

func inScope(ps []person) int {
	n := 0
	for _, p := range ps {
		if p.Type == "Employee" && p.Status == "Active" {
			n++
		}
	}
	return n
}

// writeHR writes the export; extra lines are appended verbatim (malformed rows).
func writeHR(t *testing.T, path string, ps []person, extra ...string) {
	t.Helper()
	f, err := os.Create(path + ".tmp")
	require.NoError(t, err)
	w := csv.NewWriter(f)
	require.NoError(t, w.Write([]string{"employeeId", "userName", "givenName", "surname", "jobTitle", "employeeType", "status"}))
	for _, p := range ps {
		require.NoError(t, w.Write([]string{p.ID, p.UserName, p.Given, p.Family, p.Title, p.Type, p.Status}))
	}
	w.Flush()
	require.NoError(t, w.Error())
	for _, line := range extra {
		_, err := f.WriteString(line + "\n")
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(path+".tmp", path))
}

// world is a sample application, an HR file and a job configuration for it.
type world struct {
	app    *sampleapp.App
	url    string
	hrPath string
	job    config.Job
}

func newWorld(t *testing.T, name string) *world {
	t.Helper()
	t.Setenv(tokenEnv, "test-token-"+name)
	app := sampleapp.New(sampleapp.Options{Token: "test-token-" + name})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	w := &world{app: app, url: srv.URL, hrPath: filepath.Join(t.TempDir(), "hr.csv")}
	w.job = config.Job{
		Name:     name,
		Interval: config.Duration(time.Hour),
		Source:   config.Source{Connector: &file.Config{Path: w.hrPath, IDColumn: "employeeId", DisabledColumn: "status", DisabledValues: []string{"Inactive"}}},
		Target:   config.Target{Application: "sampleapp", Connector: &scim.Config{BaseURL: srv.URL + "/scim/v2", Token: secrets.Ref{Env: tokenEnv}}},
		Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{
			Name: "users", SourceObject: "User", TargetObject: "User",
			Scope: mapping.ScopingFilter{Groups: []mapping.FilterGroup{{Clauses: []mapping.Clause{{Attribute: "employeeType", Operator: "EQUALS", Value: "Employee"}}}}},
			Attributes: []mapping.AttributeMapping{
				{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
				{Target: "externalId", Type: mapping.Direct, Source: "employeeId", MatchingPriority: 2},
				{Target: "name.givenName", Type: mapping.Direct, Source: "givenName"},
				{Target: "name.familyName", Type: mapping.Direct, Source: "surname"},
				{Target: "title", Type: mapping.Direct, Source: "jobTitle"},
			},
		}}},
		Options: config.Options{BatchSize: 50, Batches: 4, Concurrency: 8},
	}
	return w
}

// userNames returns the userNames in the application and fails on duplicates.
func (w *world) users(t *testing.T) map[string]sampleapp.Resource {
	t.Helper()
	out := map[string]sampleapp.Resource{}
	for _, u := range w.app.Users() {
		name, _ := u.Attributes["userName"].(string)
		_, dup := out[name]
		require.False(t, dup, "duplicate account %s", name)
		out[name] = u
	}
	return out
}

func active(r sampleapp.Resource) bool {
	v, ok := r.Attributes["active"]
	return !ok || v == true
}

// startWorker runs an in-process worker until the test ends and returns
// its state store; overrides register activities in place of its own.
func startWorker(t *testing.T, c client.Client, overrides ...func(worker.Worker, *activities.Activities)) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	acts := activities.New(st, log)
	w := worker.New(c, api.TaskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(acts)
	for _, o := range overrides {
		o(w, acts)
	}
	require.NoError(t, w.Start())
	t.Cleanup(func() { w.Stop(); acts.Connections.Close(); st.Close() })
	return st
}

// startWorkerProcess runs the worker binary bin on the state store at
// state as a process of its own, which the test may kill, until the test
// ends.
func startWorkerProcess(t *testing.T, bin string, tmp *testenv.Temporal, state string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-address", tmp.Server.FrontendHostPort(), "-state", state, "-log-format", "json", "-log-level", "warn")
	cmd.Env = append(os.Environ(), tokenEnv+"="+os.Getenv(tokenEnv))
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

func startJob(t *testing.T, c client.Client, job config.Job) {
	t.Helper()
	_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: api.JobWorkflowID(job.Name), TaskQueue: api.TaskQueue,
	}, workflows.ProvisioningJob, workflows.JobInput{Config: job})
	require.NoError(t, err)
}

func status(t *testing.T, c client.Client, job string) api.Status {
	t.Helper()
	st, err := queryStatus(c, job)
	require.NoError(t, err)
	return st
}

// queryStatus is for polling: the query fails until the job's first workflow
// task has run.
func queryStatus(c client.Client, job string) (api.Status, error) {
	var st api.Status
	v, err := c.QueryWorkflow(context.Background(), api.JobWorkflowID(job), "", api.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// waitCycle waits until cycle n of the job has finished.
func waitCycle(t *testing.T, c client.Client, job string, n int, timeout time.Duration) api.Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := c.QueryWorkflow(context.Background(), api.JobWorkflowID(job), "", api.QueryStatus)
		if err == nil {
			var st api.Status
			require.NoError(t, v.Get(&st))
			if st.LastCycle != nil && st.LastCycle.Number >= n && st.Current == nil {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cycle %d of job %s did not finish in %s (last error: %v)", n, job, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func signal(t *testing.T, c client.Client, job, name string, arg any) {
	t.Helper()
	require.NoError(t, c.SignalWorkflow(context.Background(), api.JobWorkflowID(job), "", name, arg))
}

// provisionOnDemand sends the job a provision-on-demand update and waits
// for its result.
func provisionOnDemand(t *testing.T, c client.Client, job string, r api.OnDemandRequest) api.OnDemandResult {
	t.Helper()
	var res api.OnDemandResult
	updateJob(t, c, job, api.UpdateProvisionOnDemand, r, &res)
	return res
}

// updateJob sends the job an update and waits for its result in out.
func updateJob(t *testing.T, c client.Client, job, update string, arg, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: api.JobWorkflowID(job), UpdateName: update,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, out))
}

// entries reads the job's provisioning log back from workflow history.
func entries(t *testing.T, c client.Client, job string, want int) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	deadline := time.Now().Add(30 * time.Second)
	for {
		out = out[:0]
		err := history.Read(context.Background(), c, "default", job, func(e audit.Entry) error {
			out = append(out, e)
			return nil
		})
		require.NoError(t, err)
		// Visibility is eventually consistent: wait for every cycle run.
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func listRequest(query string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query}
}

func searchPeople(filter string, attrs ...string) *goldap.SearchRequest {
	return goldap.NewSearchRequest(slapd.People, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

// scimDirectory starts a sample application used as a SCIM source and
// returns its connection and a client to fill it.
func scimDirectory(t *testing.T, tokenEnv string) (*scim.Config, *scim.Client) {
	t.Helper()
	t.Setenv(tokenEnv, "source-token")
	dir := sampleapp.New(sampleapp.Options{Token: "source-token"})
	srv := httptest.NewServer(dir.Handler())
	t.Cleanup(srv.Close)
	cfg := &scim.Config{BaseURL: srv.URL + "/scim/v2", Token: secrets.Ref{Env: tokenEnv}}
	admin, err := cfg.Open(context.Background(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	return cfg, admin
}
