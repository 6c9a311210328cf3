package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/internal/testenv"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// test-connection against the sample application, as it passes and as
// each way a target can be wrong fails it, with the worker (which alone
// reads the token) doing the steps; start refuses a job whose test fails.
func TestTestConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	const (
		token      = "test-connection-token"
		wrongEnv   = "PROVISIONING_SECRET_TEST_CONNECTION_WRONG"
		wrongToken = "wrong-token-1c5b"
	)
	tmp := testenv.StartTemporal(t)
	e := &env{t: t, bin: testenv.Build(t, "./starter"), address: tmp.Server.FrontendHostPort()}
	t.Setenv(tokenEnv, token)
	t.Setenv(wrongEnv, wrongToken)
	app := sampleapp.New(sampleapp.Options{Token: token})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewTLSServer(app.Handler())
	t.Cleanup(tlsSrv.Close)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><body>Sign in</body></html>")
	}))
	t.Cleanup(html.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + closed.Addr().String()
	require.NoError(t, closed.Close())

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hr.csv"), []byte("employeeId,userName\nE001,user001@example.com\n"), 0o600))
	job := func(name, baseURL, env string) string {
		path := filepath.Join(dir, name+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(`name: `+name+`
source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  application: sampleapp
  scim: {baseURL: "`+baseURL+`/scim/v2", token: {env: `+env+`}, maxRetries: 1}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
      - {target: externalId, type: Direct, source: employeeId}
`), 0o600))
		return path
	}
	startWorkerProcess(t, e.address, filepath.Join(dir, "state.db"))

	t.Run("every step passes against the sample application", func(t *testing.T) {
		out := e.ok("test-connection", job("reachable", srv.URL, tokenEnv))
		require.Regexp(t, `(?m)^ok\s+open source .*hr.csv\s+\d+ ms`, out)
		require.Regexp(t, `(?m)^ok\s+read one page of User from the source\s+\d+ ms\s+1 objects on the first page`, out)
		require.Regexp(t, `(?m)^ok\s+query User for userName = a random GUID, expecting none\s+\d+ ms`, out)
		require.Regexp(t, `(?m)^ok\s+target: GET /ServiceProviderConfig`, out)
		require.Regexp(t, `(?m)^ok\s+target: GET /Schemas`, out)
		require.GreaterOrEqual(t, app.Stats().Requests["GET /Users"], 1, "the worker queried the target")

		var res api.ConnectionTest
		require.NoError(t, json.Unmarshal([]byte(e.ok("test-connection", job("reachable", srv.URL, tokenEnv), "--json")), &res))
		require.True(t, res.Passed())
		require.Len(t, res.Steps, 6)
	})

	failing := []struct {
		name, baseURL, env string
		failure            api.ConnectionFailure
		detail             string
	}{
		{"wrong-token", srv.URL, wrongEnv, api.FailureUnauthorized, "(401): Authorization failure. The authorization header is invalid or missing. (WWW-Authenticate: Bearer)"},
		{"refused", refused, tokenEnv, api.FailureRefused, "connection refused"},
		{"unknown-host", "http://scim.test-connection.invalid", tokenEnv, api.FailureDNS, "scim.test-connection.invalid"},
		{"unknown-ca", tlsSrv.URL, tokenEnv, api.FailureTLSUnknownCA, "certificate signed by unknown authority"},
		{"html", html.URL, tokenEnv, api.FailureIncompatible, `the answer is not SCIM JSON (Content-Type "text/html; charset=utf-8")`},
	}
	for _, f := range failing {
		t.Run("a target that fails: "+f.name, func(t *testing.T) {
			out, stderr, code := e.run("test-connection", job(f.name, f.baseURL, f.env))
			require.Equal(t, exitFailure, code, "%s\n%s", out, stderr)
			require.Regexp(t, `(?m)^ok\s+read one page of User from the source`, out)
			require.Regexp(t, `(?m)^FAILED\s+query User for userName = a random GUID, expecting none\s+\d+ ms\s+`+string(f.failure)+`: `, out)
			require.Contains(t, out, f.detail)
			require.Contains(t, stderr, fmt.Sprintf("failed at %q: %s", "query User for userName = a random GUID, expecting none", f.failure))
			require.NotContains(t, out+stderr, wrongToken)
			require.NotContains(t, out+stderr, token)
		})
	}

	t.Run("start tests a new job's connections and starts nothing when they fail", func(t *testing.T) {
		out, stderr, code := e.run("start", job("wrong-token", srv.URL, wrongEnv))
		require.Equal(t, exitFailure, code, "%s\n%s", out, stderr)
		require.Contains(t, out, "Unauthorized")
		require.Contains(t, stderr, "nothing was started")
		_, stderr, code = e.run("status", "wrong-token")
		require.Equal(t, exitFailure, code)
		require.Contains(t, stderr, "not found")
	})

	t.Run("an invalid configuration exits 2", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		require.NoError(t, os.WriteFile(bad, []byte("name: bad\n"), 0o600))
		_, _, code := e.run("test-connection", bad)
		require.Equal(t, exitInvalid, code)
	})
}
