package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/chromium"
	"github.com/openprovisioning/provisioner/sampleapp"
)

const tokenEnv = "PROVISIONING_SECRET_STARTER_TEST"

// The starter's commands, run as a binary against a dev server, a worker
// and the sample application.
func TestStarterCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporalWithUI(t)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	t.Setenv(tokenEnv, "starter-test-token")
	app := sampleapp.New(sampleapp.Options{Token: "starter-test-token"})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	const people, contractors = 24, 4
	var hr strings.Builder
	hr.WriteString("employeeId,userName,givenName,surname,employeeType\n")
	for i := 1; i <= people; i++ {
		typ := "Employee"
		if i > people-contractors {
			typ = "Contractor"
		}
		fmt.Fprintf(&hr, "E%03d,user%03d@example.com,Given%d,Family,%s\n", i, i, i, typ)
	}
	hr.WriteString("E999,broken@example.com\n") // too few fields: fails alone
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hr.csv"), []byte(hr.String()), 0o600))
	cfg := filepath.Join(dir, "job.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`name: starter-test
interval: 1h
source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "`+srv.URL+`/scim/v2", token: {env: `+tokenEnv+`}}
objects:
  - sourceObject: User
    targetObject: User
    scope:
      groups:
        - clauses: [{attribute: employeeType, operator: EQUALS, value: Employee}]
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
      - {target: externalId, type: Direct, source: employeeId, matchingPriority: 2}
      - {target: name.givenName, type: Direct, source: givenName}
options: {batchSize: 5, batches: 2}
`), 0o600))
	startWorkerProcess(t, e.address, filepath.Join(dir, "state.db"))
	const employees = people - contractors

	t.Run("preview lists planned creates with values and pushes nothing", func(t *testing.T) {
		out := e.ok("preview", cfg)
		require.Contains(t, out, "dry run, nothing was pushed")
		require.Regexp(t, `Create\s+Success\s+User E001 \(user001@example.com\)\s+\(dry run\)\s+externalId: → E001`, out)
		require.Contains(t, out, "userName: → user001@example.com")
		require.Contains(t, out, "InvalidSourceRecord")
		require.Regexp(t, fmt.Sprintf(`(?m)^\s+Create\s+%d\s*$`, employees), out)
		require.NotContains(t, out, "User E021", "objects that need nothing are left out")

		var entries []audit.Entry
		require.NoError(t, json.Unmarshal([]byte(e.ok("preview", cfg, "--json", "--all")), &entries))
		require.Len(t, entries, people+1)
		creates := 0
		for _, en := range entries {
			require.True(t, en.DryRun)
			if en.Action == audit.Create {
				creates++
				require.Contains(t, en.Modified, audit.Property{Name: "userName", New: strings.ToLower(en.DisplayName)})
			}
		}
		require.Equal(t, employees, creates)

		for req, n := range app.Stats().Requests {
			require.False(t, strings.HasPrefix(req, "POST") || strings.HasPrefix(req, "PATCH") || strings.HasPrefix(req, "PUT") || strings.HasPrefix(req, "DELETE"), "%d × %s", n, req)
		}
		require.Empty(t, app.Users())
	})

	var st api.Status
	t.Run("start provisions and status reports the cycle", func(t *testing.T) {
		e.ok("start", cfg)
		deadline := time.Now().Add(time.Minute)
		for st.LastCycle == nil || st.Current != nil {
			require.True(t, time.Now().Before(deadline), "the first cycle did not finish")
			time.Sleep(200 * time.Millisecond)
			out, _, code := e.run("status", "starter-test", "--json")
			if code == 0 {
				st = api.Status{}
				require.NoError(t, json.Unmarshal([]byte(out), &st))
			}
		}
		require.Len(t, app.Users(), employees)
		require.Equal(t, employees, st.LastCycle.Counts.Of(audit.Create, audit.Success))
	})

	// What operators see in the Web UI: the job and its cycles found by the
	// ProvisioningJob search attribute, with the state column; the summaries
	// of the job's activities, cycles and timers.
	t.Run("the Web UI lists the job and its cycles by search attribute and shows the job's state", func(t *testing.T) {
		require.NotNil(t, st.LastCycle, "needs the first cycle")
		job := api.JobWorkflowID("starter-test")
		chromium.Text(t, tmp.UI+"/namespaces/default/workflows?query="+url.QueryEscape(`ProvisioningJob="starter-test"`),
			job, job+"/cycle-1", "ProvisioningJob", "Running")
		desc, err := tmp.Client.DescribeWorkflow(context.Background(), job, "")
		require.NoError(t, err)
		run := desc.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		chromium.Text(t, tmp.UI+"/namespaces/default/workflows/"+url.PathEscape(job)+"/"+run+"/user-metadata",
			"Events with Metadata", "validate configuration", "Initial cycle 1 of starter-test", "next incremental cycle")
	})

	t.Run("logs filter and export what the cycle counted", func(t *testing.T) {
		require.NotNil(t, st.LastCycle, "needs the first cycle")
		rows := e.csv("logs", cfg, "--action", "create", "--format", "csv")
		require.Equal(t, audit.Columns, rows[0])
		require.Len(t, rows[1:], st.LastCycle.Counts.Of(audit.Create, audit.Success))
		for _, r := range rows[1:] {
			require.Equal(t, []string{"starter-test", st.LastCycle.ID, "User", "Create", "Success"}, []string{r[0], r[1], r[4], r[9], r[10]})
			require.Contains(t, r[13], "userName: → "+r[7])
		}

		// The preview's entries are not in the job's log.
		all := e.csv("logs", "starter-test", "--format", "csv")
		require.Len(t, all[1:], st.LastCycle.Counts.Total())
		require.Len(t, e.csv("logs", "starter-test", "--format", "csv", "--cycle", "1", "--since", "1h")[1:], st.LastCycle.Counts.Total())
		require.Len(t, e.csv("logs", "starter-test", "--format", "csv", "--cycle", "2")[1:], 0)
		require.Len(t, e.csv("logs", "starter-test", "--format", "csv", "--since", "2999-01-01")[1:], 0)

		var failed []audit.Entry
		require.NoError(t, json.Unmarshal([]byte(e.ok("logs", "starter-test", "--status", "failure", "--format", "json")), &failed))
		require.Len(t, failed, st.LastCycle.Counts.Of(audit.Other, audit.Failure))
		require.Equal(t, "InvalidSourceRecord", failed[0].ErrorCode)

		one := e.csv("logs", "starter-test", "--object", "E002", "--format", "csv")
		require.Len(t, one[1:], 1)
		table := e.ok("logs", "starter-test", "--object", "user002@example.com")
		require.Regexp(t, `TIME\s+CYCLE\s+ACTION\s+STATUS\s+OBJECT\s+TARGET ID\s+DETAILS`, table)
		require.Contains(t, table, "name.givenName: → Given2")

		for _, bad := range [][]string{{"--action", "Erase"}, {"--status", "Done"}, {"--since", "yesterday"}, {"--format", "xml"}} {
			_, stderr, code := e.run(append([]string{"logs", "starter-test"}, bad...)...)
			require.Equal(t, exitInvalid, code, "%v: %s", bad, stderr)
		}
	})

	t.Run("report sums each cycle by action and error code", func(t *testing.T) {
		var cycles []audit.CycleReport
		require.NoError(t, json.Unmarshal([]byte(e.ok("report", "starter-test", "--json")), &cycles))
		require.Len(t, cycles, 1)
		require.Equal(t, st.LastCycle.ID, cycles[0].CycleID)
		require.Equal(t, map[string]int(st.LastCycle.Counts), map[string]int(cycles[0].Counts))
		require.Equal(t, st.LastCycle.Counts.Of(audit.Other, audit.Failure), cycles[0].Errors["InvalidSourceRecord"])
		require.Regexp(t, `CYCLE\s+STARTED\s+DURATION\s+OBJECTS\s+ACTIONS\s+ERRORS`, e.ok("report", "starter-test"))
	})

	t.Run("on-demand provisions a new hire now and explains each step", func(t *testing.T) {
		require.NotNil(t, st.LastCycle, "needs the first cycle")
		f, err := os.OpenFile(filepath.Join(dir, "hr.csv"), os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString("E100,new.hire@example.com,New,Hire,Employee\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())

		out := e.ok("on-demand", cfg, "E100")
		require.Regexp(t, `1\. Import\s+Success\s+read row \d+`, out)
		require.Contains(t, out, `userName = "new.hire@example.com"`)
		require.Contains(t, out, `filter 1: employeeType EQUALS "Employee" — value "Employee": true`)
		require.Contains(t, out, `userName "new.hire@example.com": 0 target objects; externalId "E100": 0 target objects; no target object matched`)
		require.Regexp(t, `4\. Action\s+Success\s+Create target object \S+`, out)
		require.Contains(t, out, `name.givenName: "" → "New"`)
		require.Len(t, app.Users(), employees+1, "created now, before any cycle")

		var res struct {
			Steps []struct{ Name, Status string }
		}
		out, _, code := e.run("on-demand", "starter-test", "E024", "--json")
		require.Equal(t, 0, code, out)
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		require.Equal(t, "Skipped", res.Steps[1].Status, "a contractor is out of scope")
		require.Len(t, app.Users(), employees+1)

		out, _, code = e.run("on-demand", "starter-test", "E404")
		require.Equal(t, exitFailure, code, out)
		require.Contains(t, out, `the source has no User with ID "E404"`)
		_, stderr, code := e.run("on-demand", "starter-test", "G1", "--type", "group")
		require.Equal(t, exitInvalid, code, stderr)
		require.Contains(t, stderr, "does not provision Group objects")

		logged := e.csv("logs", "starter-test", "--object", "E100", "--format", "csv")
		require.Len(t, logged[1:], 1, "the on-demand outcome is in the job's log")
		require.Equal(t, "Create", logged[1][9])
	})

	t.Run("status --watch prints lines until interrupted", func(t *testing.T) {
		cmd := exec.Command(e.bin, "status", "starter-test", "--watch", "--address", e.address)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		require.True(t, lines.Scan())
		require.Contains(t, lines.Text(), "job starter-test Running")
		require.Contains(t, lines.Text(), "last: Initial cycle 1")
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		require.NoError(t, cmd.Wait(), "an interrupted watch exits 0")
	})

	t.Run("replay passes recorded histories and fails a changed one", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "*.json*"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		out := e.ok(append([]string{"replay"}, files...)...)
		require.Equal(t, len(files), strings.Count(out, "ok   "))

		changed := filepath.Join(dir, "changed.json")
		writeChangedHistory(t, files[0], changed)
		out, _, code := e.run("replay", changed)
		require.Equal(t, exitFailure, code, out)
		require.Contains(t, out, "FAIL "+changed)
	})

	t.Run("a signal sent from the Web UI runs a cycle; rollback restores what it changed, once the job is stopped", func(t *testing.T) {
		require.NotNil(t, st.LastCycle, "needs the first cycle")
		hrPath := filepath.Join(dir, "hr.csv")
		b, err := os.ReadFile(hrPath)
		require.NoError(t, err)
		renamed := strings.Replace(string(b), "E001,user001@example.com,Given1,", "E001,user001@example.com,Renamed,", 1)
		require.NotEqual(t, string(b), renamed)
		require.NoError(t, os.WriteFile(hrPath, []byte(renamed), 0o600))
		// Operators steer jobs from the Web UI: the sync-now signal sent
		// from the job's page runs the incremental cycle.
		sendFromJobPage(t, tmp.UI+"/namespaces/default/workflows/"+url.PathEscape(api.JobWorkflowID("starter-test")), "signal", api.SignalSyncNow, "")
		require.Eventually(t, func() bool { return givenName(app, "user001@example.com") == "Renamed" }, time.Minute, 200*time.Millisecond)
		waitIdle(t, e, "starter-test", 2)

		_, stderr, code := e.run("rollback", "starter-test", "--cycle", "2", "--apply")
		require.Equal(t, exitInvalid, code, stderr)
		require.Contains(t, stderr, "stop it first")

		out := e.ok("rollback", "starter-test", "--cycle", "2")
		require.Contains(t, out, "dry run: nothing was changed")
		require.Regexp(t, `Update\s+User E001 \(user001@example.com\)\s+\S+\s+name.givenName: "Renamed" → "Given1"`, out)
		require.Equal(t, "Renamed", givenName(app, "user001@example.com"), "a dry run changes nothing")

		e.ok("stop", "starter-test")
		require.Eventually(t, func() bool {
			out, _, code := e.run("status", "starter-test", "--json")
			var s api.Status
			return code == 0 && json.Unmarshal([]byte(out), &s) == nil && s.State == api.Paused
		}, time.Minute, 200*time.Millisecond)
		out = e.ok("rollback", "starter-test", "--cycle", "2", "--apply")
		require.Contains(t, out, "1 restored, 0 failed")
		require.Equal(t, "Given1", givenName(app, "user001@example.com"))

		var logged []audit.Entry
		require.NoError(t, json.Unmarshal([]byte(e.ok("logs", "starter-test", "--object", "E001", "--format", "json")), &logged))
		last := logged[len(logged)-1]
		require.Contains(t, last.Reason, "rolled back to before")
		require.Equal(t, []audit.Property{{Name: "name.givenName", Old: "Renamed", New: "Given1"}}, last.Modified)
	})

	t.Run("connections show, list and delete object connections", func(t *testing.T) {
		var ada string
		for _, u := range app.Users() {
			if u.Attributes["userName"] == "user001@example.com" {
				ada = u.ID
			}
		}
		require.NotEmpty(t, ada)
		for _, id := range []string{"E001", ada} {
			out := e.ok("connections", "starter-test", "--object", id)
			require.Regexp(t, `User\s+E001\s+`+ada+`\s+true`, out, "found by %s", id)
		}
		out := e.ok("connections", cfg, "--limit", "3")
		require.Regexp(t, `(?s)E001.*E002.*E003.*more: --after E003`, out)
		require.Contains(t, e.ok("connections", "starter-test", "--after", "E003", "--limit", "1"), "E004")

		// The job was stopped for the rollback: a connection may be deleted.
		out = e.ok("connections", "starter-test", "--delete", "E001")
		require.Contains(t, out, "is deleted; the next cycle matches it again")
		_, stderr, code := e.run("connections", "starter-test", "--object", "E001")
		require.Equal(t, exitFailure, code)
		require.Contains(t, stderr, `no User with source or target ID "E001"`)
		e.ok("resume", "starter-test")
		_, stderr, code = e.run("connections", "starter-test", "--delete", "E002")
		require.Equal(t, exitInvalid, code, stderr)
		require.Contains(t, stderr, "stop it before deleting")
	})

	t.Run("an export that arrives with its header only is held; status and logs list the held disables; ForceDeletes applies them", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "hr.csv"), []byte("employeeId,userName,givenName,surname,employeeType\n"), 0o600))
		e.ok("sync-now", "starter-test")
		var s api.Status
		require.Eventually(t, func() bool {
			out, _, code := e.run("status", "starter-test", "--json")
			s = api.Status{}
			return code == 0 && json.Unmarshal([]byte(out), &s) == nil && s.HeldDeletes > 0
		}, time.Minute, 200*time.Millisecond)
		require.Equal(t, api.Paused, s.State)
		out := e.ok("status", "starter-test")
		require.Contains(t, out, "TooManyDeletes")
		require.Contains(t, out, "the source returned no User objects")
		require.Contains(t, out, fmt.Sprintf("held:         %d deletes and disables", s.HeldDeletes))
		require.Regexp(t, fmt.Sprintf(`Held operations \(%d of %d;`, min(s.HeldDeletes, 20), s.HeldDeletes), out)
		require.Regexp(t, `StagedDelete\s+Skipped\s+User E0\d\d`, out)
		rows := e.csv("logs", "starter-test", "--action", "StagedDelete", "--format", "csv")
		require.Len(t, rows[1:], s.HeldDeletes)
		for _, u := range app.Users() {
			require.True(t, active(u), "nothing is disabled while held")
		}

		e.ok("restart", "starter-test", "--scope", "ForceDeletes")
		require.Eventually(t, func() bool {
			disabled := 0
			for _, u := range app.Users() {
				if !active(u) {
					disabled++
				}
			}
			return disabled == s.HeldDeletes
		}, time.Minute, 200*time.Millisecond)
	})
}

func active(u sampleapp.Resource) bool {
	v, ok := u.Attributes["active"]
	return !ok || v == true
}

// waitIdle waits until the job has finished cycle n and runs none.
func waitIdle(t *testing.T, e *env, job string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, _, code := e.run("status", job, "--json")
		var s api.Status
		return code == 0 && json.Unmarshal([]byte(out), &s) == nil && s.LastCycle != nil && s.LastCycle.Number >= n && s.Current == nil
	}, time.Minute, 200*time.Millisecond)
}

// givenName is the given name the application holds for a user.
func givenName(app *sampleapp.App, userName string) string {
	for _, u := range app.Users() {
		if u.Attributes["userName"] == userName {
			name, _ := u.Attributes["name"].(map[string]any)
			return fmt.Sprint(name["givenName"])
		}
	}
	return ""
}

// usersJob writes hr.csv (its header first) and the configuration of a
// job named name that provisions its users into the SCIM service at
// baseURL, matched by userName, with the further attribute mappings and
// top-level settings given; it returns the configuration's path.
func usersJob(t *testing.T, dir, name, baseURL, hr string, attributes []string, settings ...string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hr.csv"), []byte(hr), 0o600))
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ninterval: 1h\n", name)
	for _, line := range settings {
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, `source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  scim: {baseURL: "%s/scim/v2", token: {env: %s}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
`, baseURL, tokenEnv)
	for _, a := range attributes {
		b.WriteString("      - " + a + "\n")
	}
	cfg := filepath.Join(dir, name+".yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(b.String()), 0o600))
	return cfg
}

// env runs the starter binary against one Temporal server.
type env struct {
	t       *testing.T
	bin     string
	address string
}

func (e *env) run(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(e.bin, append(args, "--address", e.address)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	require.NoError(e.t, err)
	return out.String(), errOut.String(), 0
}

// ok runs the starter and requires exit code 0.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	out, stderr, code := e.run(args...)
	require.Zero(e.t, code, "starter %s: %s", strings.Join(args, " "), stderr)
	return out
}

// csv runs the starter and parses its CSV output.
func (e *env) csv(args ...string) [][]string {
	e.t.Helper()
	rows, err := csv.NewReader(strings.NewReader(e.ok(args...))).ReadAll()
	require.NoError(e.t, err)
	return rows
}

// startWorkerProcess runs the worker binary, with extra flags, until the
// test ends or stop is called.
func startWorkerProcess(t *testing.T, address, state string, extra ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(testenv.Build(t, "./worker"), append([]string{"-address", address, "-state", state, "-log-format", "json", "-log-level", "warn"}, extra...)...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var once sync.Once
	stop = func() { once.Do(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() }) }
	t.Cleanup(stop)
	return stop
}
