package main

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The audit flags open the sinks they name, and refuse a token without an
// endpoint, a token named twice and an endpoint that is not HTTP.
func TestAuditFlags(t *testing.T) {
	parse := func(args ...string) ([]string, error) {
		fs := flag.NewFlagSet("worker", flag.ContinueOnError)
		var f auditFlags
		f.register(fs)
		require.NoError(t, fs.Parse(args))
		ss, err := f.sinks()
		return sinkNames(ss), err
	}
	t.Setenv("PROVISIONING_AUDIT_DIR", "")
	t.Setenv("PROVISIONING_AUDIT_HTTP_URL", "")
	t.Setenv("AUDIT_TEST_TOKEN", "tok")
	dir := filepath.Join(t.TempDir(), "audit")

	names, err := parse()
	require.NoError(t, err)
	require.Empty(t, names, "history only")
	names, err = parse("-audit-dir", dir, "-audit-http-url", "https://user:pw@logs.example.org/ingest", "-audit-http-token-env", "AUDIT_TEST_TOKEN")
	require.NoError(t, err)
	require.Equal(t, []string{"folder " + dir, "HTTP endpoint https://user:xxxxx@logs.example.org/ingest"}, names)

	_, err = parse("-audit-http-token-env", "AUDIT_TEST_TOKEN")
	require.ErrorContains(t, err, "needs -audit-http-url")
	_, err = parse("-audit-http-url", "https://logs.example.org", "-audit-http-token-env", "AUDIT_TEST_TOKEN", "-audit-http-token-file", "/run/token")
	require.ErrorContains(t, err, "not both")
	_, err = parse("-audit-http-url", "logs.example.org:514")
	require.ErrorContains(t, err, "http:// or https://")
	_, err = parse("-audit-http-url", "https://logs.example.org", "-audit-http-token-env", "AUDIT_TEST_UNSET")
	require.ErrorContains(t, err, "AUDIT_TEST_UNSET")
}
