package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/internal/testenv/chromium"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

const (
	codecTokenEnv = "STARTER_TEST_CODEC_TOKEN"
	codecToken    = "starter-test-codec-token"
)

// With the payload codec on, the history Temporal stores holds no name or
// e-mail address from the HR export, while the starter's commands, the
// Temporal CLI through the codec server and the Web UI still read it.
func TestEncryptedHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	codecAddr := freeAddr(t)
	tmp := testenv.StartTemporalWithUI(t, "--ui-codec-endpoint", "http://"+codecAddr+"/"+codecToken)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	j := newCodecJob(t, "codec-test", 6)
	keysFile, keys := writeCodecKeys(t, j.dir)
	t.Setenv(codecTokenEnv, codecToken)
	startWorkerProcess(t, e.address, filepath.Join(j.dir, "state.db"),
		"-codec-keys-file", keysFile, "-codec-listen", codecAddr, "-codec-token-env", codecTokenEnv, "-codec-origins", tmp.UI)

	// The starter reads the keys from the environment its operator set.
	t.Setenv(codec.EnvKeysFile, keysFile)
	e.ok("start", j.cfg)
	waitIdle(t, e, j.name, 1)
	require.Len(t, j.app.Users(), j.people)
	job := api.JobWorkflowID(j.name)
	cycle := job + "/cycle-1"

	t.Run("the stored history holds no j.personal data; search attributes stay clear", func(t *testing.T) {
		for _, id := range []string{job, cycle} {
			raw := shownHistory(t, e, id)
			for _, s := range j.personal {
				require.False(t, bytes.Contains(raw, []byte(s)), "%s's history holds %q", id, s)
			}
			requireEncrypted(t, tmp.Client, id)
		}
		desc, err := tmp.Client.DescribeWorkflow(context.Background(), cycle, "")
		require.NoError(t, err)
		var name string
		sa := desc.RawResponse.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa[api.AttrJob.GetName()], &name))
		require.Equal(t, j.name, name)
	})

	t.Run("memos are encrypted", func(t *testing.T) {
		opts := client.Options{HostPort: e.address, Logger: quietLogger{}}
		codec.Codec{Keys: keys}.ClientOptions(&opts)
		c, err := client.Dial(opts)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "codec-memo", TaskQueue: "codec-memo", Memo: map[string]any{"owner": j.personal[0]}}, "Nothing")
		require.NoError(t, err)
		require.False(t, bytes.Contains(shownHistory(t, e, "codec-memo"), []byte(j.personal[0])))
		requireEncrypted(t, tmp.Client, "codec-memo")
		desc, err := c.DescribeWorkflow(context.Background(), "codec-memo", "")
		require.NoError(t, err)
		var owner string
		require.NoError(t, codec.Codec{Keys: keys}.DataConverter().FromPayload(desc.RawResponse.GetWorkflowExecutionInfo().GetMemo().GetFields()["owner"], &owner))
		require.Equal(t, j.personal[0], owner)
	})

	t.Run("the Temporal CLI decodes through the codec server with its token", func(t *testing.T) {
		shown := shownHistory(t, e, cycle, "--codec-endpoint", "http://"+codecAddr, "--codec-auth", "Bearer "+codecToken)
		require.True(t, bytes.Contains(shown, []byte("person001@example.com")))
		_, err := exec.Command(testenv.TemporalCLI(t), "workflow", "show", "-o", "json", "-w", cycle, "--address", e.address, "--codec-endpoint", "http://"+codecAddr).Output()
		require.Error(t, err, "refused without the token")
	})

	t.Run("the Web UI shows the decoded log entries", func(t *testing.T) {
		run, event := batchCompleted(t, tmp.Client, cycle)
		page := chromium.Open(t, fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history/events/%d", tmp.UI, url.PathEscape(cycle), run, event))
		page.WaitText("Activity Task Completed", `"displayName": "person001@example.com"`, `"new": "Givenname1"`)
	})

	t.Run("logs, report, rollback and replay read the encrypted history", func(t *testing.T) {
		var entries []audit.Entry
		require.NoError(t, json.Unmarshal([]byte(e.ok("logs", j.name, "--format", "json")), &entries))
		require.Len(t, entries, j.people)
		require.Equal(t, "person001@example.com", entries[0].DisplayName)

		var cycles []audit.CycleReport
		require.NoError(t, json.Unmarshal([]byte(e.ok("report", j.name, "--json")), &cycles))
		require.Len(t, cycles, 1)
		require.Equal(t, j.people, cycles[0].Counts.Of(audit.Create, audit.Success))

		// Without the keys the log is refused, not read short.
		cmd := exec.Command(e.bin, "logs", j.name, "--address", e.address)
		cmd.Env = withoutEnv(os.Environ(), codec.EnvKeysFile)
		out, err := cmd.CombinedOutput()
		require.Error(t, err)
		require.Contains(t, string(out), "the history is encrypted")

		j.rename(t, "Givenname1", "Renamed")
		e.ok("sync-now", j.name)
		waitIdle(t, e, j.name, 2)
		require.Equal(t, "Renamed", givenName(j.app, "person001@example.com"))
		e.ok("stop", j.name)
		waitPaused(t, e, j.name)
		out2 := e.ok("rollback", j.name, "--cycle", "2", "--apply")
		require.Contains(t, out2, "1 restored, 0 failed")
		require.Equal(t, "Givenname1", givenName(j.app, "person001@example.com"))

		var files []string
		for _, id := range []string{job, cycle, job + "/cycle-2"} {
			f := filepath.Join(j.dir, strings.NewReplacer(":", "-", "/", "-").Replace(id)+".json")
			require.NoError(t, os.WriteFile(f, []byte(temporalCLI(t, e, "workflow", "show", "-o", "json", "-w", id)), 0o600))
			files = append(files, f)
		}
		out2 = e.ok(append([]string{"replay"}, files...)...)
		require.Equal(t, len(files), strings.Count(out2, "ok   "), out2)
		cmd = exec.Command(e.bin, append([]string{"replay"}, files...)...)
		cmd.Env = withoutEnv(os.Environ(), codec.EnvKeysFile)
		out, err = cmd.CombinedOutput()
		require.Error(t, err, "encrypted histories do not replay without the keys")
		require.Contains(t, string(out), "FAIL")
	})
}

// A payload the codec encrypted, read without the keys, is an error that
// says which keys are missing.
func TestCodecHint(t *testing.T) {
	keys, err := codec.LoadKeys(secrets.Ref{File: filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "codec", "test.keys")})
	require.NoError(t, err)
	p, err := codec.Codec{Keys: keys}.DataConverter().ToPayload("x")
	require.NoError(t, err)
	var s string
	err = converter.GetDefaultDataConverter().FromPayload(p, &s)
	require.ErrorContains(t, withCodecHint(fmt.Errorf("status of job j: %w", err)), "the job's payloads are encrypted; give the codec keys")
	other := errors.New("connection refused")
	require.Equal(t, other, withCodecHint(other))
}

// Turning the codec on for a running job: the worker, restarted with the
// keys, reads the unencrypted history and encrypts from then on; the log
// reads both.
func TestCodecTurnedOnForARunningJob(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	tmp := testenv.StartTemporal(t)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	j := newCodecJob(t, "codec-later", 4)
	state := filepath.Join(j.dir, "state.db")
	stop := startWorkerProcess(t, e.address, state)
	e.ok("start", j.cfg)
	waitIdle(t, e, j.name, 1)
	stop()

	keysFile, _ := writeCodecKeys(t, j.dir)
	startWorkerProcess(t, e.address, state, "-codec-keys-file", keysFile)
	t.Setenv(codec.EnvKeysFile, keysFile)
	j.rename(t, "Givenname1", "Renamed")
	e.ok("sync-now", j.name)
	waitIdle(t, e, j.name, 2)
	require.Equal(t, "Renamed", givenName(j.app, "person001@example.com"))
	requireEncrypted(t, tmp.Client, api.JobWorkflowID(j.name)+"/cycle-2")

	var entries []audit.Entry
	require.NoError(t, json.Unmarshal([]byte(e.ok("logs", j.name, "--format", "json")), &entries))
	require.Len(t, entries, j.people+1, "both cycles' entries")
}

// codecJob is a job provisioning people from an HR export into the sample
// application, for the payload codec's tests.
type codecJob struct {
	name, dir, hr, cfg string
	people             int
	app                *sampleapp.App
	// personal holds every name and e-mail address in the export.
	personal []string
}

func newCodecJob(t *testing.T, name string, people int) *codecJob {
	t.Helper()
	j := &codecJob{name: name, dir: t.TempDir(), people: people}
	t.Setenv(tokenEnv, "starter-test-token")
	j.app = sampleapp.New(sampleapp.Options{Token: "starter-test-token"})
	srv := httptest.NewServer(j.app.Handler())
	t.Cleanup(srv.Close)
	var hr strings.Builder
	hr.WriteString("employeeId,userName,givenName,surname\n")
	for i := 1; i <= people; i++ {
		fmt.Fprintf(&hr, "E%03d,person%03d@example.com,Givenname%d,Surname%d\n", i, i, i, i)
		j.personal = append(j.personal, fmt.Sprintf("person%03d@example.com", i), fmt.Sprintf("Givenname%d", i), fmt.Sprintf("Surname%d", i))
	}
	j.hr = filepath.Join(j.dir, "hr.csv")
	require.NoError(t, os.WriteFile(j.hr, []byte(hr.String()), 0o600))
	j.cfg = filepath.Join(j.dir, "job.yaml")
	require.NoError(t, os.WriteFile(j.cfg, []byte(`name: `+name+`
interval: 1h
source:
  file: {path: `+j.hr+`, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "`+srv.URL+`/scim/v2", token: {env: `+tokenEnv+`}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
      - {target: externalId, type: Direct, source: employeeId, matchingPriority: 2}
      - {target: name.givenName, type: Direct, source: givenName}
      - {target: name.familyName, type: Direct, source: surname}
`), 0o600))
	return j
}

// rename changes a given name in the export.
func (j *codecJob) rename(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(j.hr)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(j.hr, []byte(strings.Replace(string(b), ","+from+",", ","+to+",", 1)), 0o600))
}

// writeCodecKeys writes a keys file with a fresh key into dir.
func writeCodecKeys(t *testing.T, dir string) (string, *codec.Keys) {
	t.Helper()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	path := filepath.Join(dir, "codec.keys")
	require.NoError(t, os.WriteFile(path, []byte("test-1="+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600))
	keys, err := codec.LoadKeys(secrets.Ref{File: path})
	require.NoError(t, err)
	return path, keys
}

// requireEncrypted checks that every payload of a workflow's latest run,
// search attributes aside, is encrypted.
func requireEncrypted(t *testing.T, c client.Client, workflowID string) {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		require.NoError(t, proxy.VisitPayloads(context.Background(), ev, proxy.VisitPayloadsOptions{
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				for _, p := range ps {
					n++
					require.Equal(t, codec.Encoding, string(p.GetMetadata()[converter.MetadataEncoding]), "%s event %d (%s)", workflowID, ev.GetEventId(), ev.GetEventType())
				}
				return ps, nil
			},
		}))
	}
	require.Positive(t, n, "%s has payloads", workflowID)
}

// batchCompleted returns a cycle's run and the ID of the event that
// completed its first provisioning batch.
func batchCompleted(t *testing.T, c client.Client, workflowID string) (string, int64) {
	t.Helper()
	desc, err := c.DescribeWorkflow(context.Background(), workflowID, "")
	require.NoError(t, err)
	run := desc.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	var batch int64
	it := c.GetWorkflowHistory(context.Background(), workflowID, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "ProvisionBatch" && batch == 0 {
			batch = ev.GetEventId()
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil && a.GetScheduledEventId() == batch {
			return run, ev.GetEventId()
		}
	}
	t.Fatalf("%s has no completed provisioning batch", workflowID)
	return "", 0
}

// shownHistory is a workflow's history as `temporal workflow show -o json`
// prints it, in protobuf's binary form: payloads' data as they are, not
// base64 as in JSON.
func shownHistory(t *testing.T, e *env, workflowID string, args ...string) []byte {
	t.Helper()
	out := temporalCLI(t, e, append([]string{"workflow", "show", "-o", "json", "-w", workflowID}, args...)...)
	h, err := client.HistoryFromJSON(strings.NewReader(out), client.HistoryJSONOptions{})
	require.NoError(t, err)
	b, err := proto.Marshal(h)
	require.NoError(t, err)
	return b
}

// temporalCLI runs the Temporal CLI against e's server and returns its output.
func temporalCLI(t *testing.T, e *env, args ...string) string {
	t.Helper()
	out, err := exec.Command(testenv.TemporalCLI(t), append(args, "--address", e.address)...).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("temporal %s: %v\n%s", strings.Join(args, " "), err, exit.Stderr)
	}
	require.NoError(t, err)
	return string(out)
}

// waitPaused waits until the job is paused.
func waitPaused(t *testing.T, e *env, job string) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, _, code := e.run("status", job, "--json")
		var s api.Status
		return code == 0 && json.Unmarshal([]byte(out), &s) == nil && s.State == api.Paused
	}, time.Minute, 200*time.Millisecond)
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
