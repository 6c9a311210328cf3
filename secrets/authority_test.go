package secrets_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/secrets"
)

func TestAuthorityEnvironmentVariables(t *testing.T) {
	a := &secrets.Authority{Env: []string{secrets.DefaultEnv, "APP_TOKEN"}}
	require.NoError(t, a.CheckRef(secrets.Ref{Env: "PROVISIONING_SECRET_APP"}))
	require.NoError(t, a.CheckRef(secrets.Ref{Env: "APP_TOKEN"}))
	err := a.CheckRef(secrets.Ref{Env: "PGPASSWORD"})
	require.ErrorIs(t, err, secrets.ErrNotAllowed)
	require.ErrorContains(t, err, "environment variable PGPASSWORD")
	require.ErrorContains(t, err, "-allow-env")
	require.ErrorIs(t, a.CheckRef(secrets.Ref{Env: "APP_TOKEN_2"}), secrets.ErrNotAllowed, "a name without * is exact")
	require.NoError(t, (*secrets.Authority)(nil).CheckRef(secrets.Ref{Env: "PGPASSWORD"}), "no authority, no limit")
}

func TestAuthorityFolders(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "exports")
	require.NoError(t, os.Mkdir(allowed, 0o700))
	outside := filepath.Join(dir, "outside.csv")
	require.NoError(t, os.WriteFile(outside, []byte("x"), 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(allowed, "link.csv")))
	a := &secrets.Authority{SourceDirs: []string{allowed}, SecretDirs: []string{allowed}}

	require.NoError(t, a.CheckSource(filepath.Join(allowed, "hr.csv")), "a file not there yet")
	require.NoError(t, a.CheckSource(filepath.Join(allowed, "2026", "hr.csv")))
	for _, p := range []string{"/etc/shadow", outside, filepath.Join(allowed, "..", "outside.csv"), filepath.Join(allowed, "link.csv"), allowed + "-other/hr.csv"} {
		err := a.CheckSource(p)
		require.ErrorIs(t, err, secrets.ErrNotAllowed, p)
		require.ErrorContains(t, err, "-allow-source-dir")
	}
	require.ErrorContains(t, a.CheckSource(filepath.Join(allowed, "link.csv")), "("+outside+")", "the link's target is named")

	require.NoError(t, a.CheckRef(secrets.Ref{File: filepath.Join(allowed, "token")}))
	err := a.CheckRef(secrets.Ref{File: "/etc/shadow"})
	require.ErrorIs(t, err, secrets.ErrNotAllowed)
	require.ErrorContains(t, err, "-allow-secret-dir")
	require.ErrorIs(t, (&secrets.Authority{}).CheckSource(outside), secrets.ErrNotAllowed, "no folder, no file")
}

// Restrict applies to references decoded from a job configuration's JSON,
// as workflow inputs are, not to those the worker builds for its operator.
func TestRestrictAppliesToReferencesJobsName(t *testing.T) {
	t.Setenv("PGPASSWORD", "state-store-password")
	t.Setenv("PROVISIONING_SECRET_APP", "app-token")
	secrets.Restrict(&secrets.Authority{Env: []string{secrets.DefaultEnv}})
	t.Cleanup(func() { secrets.Restrict(nil) })

	var named struct{ Token, Allowed secrets.Ref }
	require.NoError(t, json.Unmarshal([]byte(`{"Token": {"env": "PGPASSWORD"}, "Allowed": {"env": "PROVISIONING_SECRET_APP"}}`), &named))
	_, err := named.Token.Resolve()
	require.ErrorIs(t, err, secrets.ErrNotAllowed)
	require.NotContains(t, err.Error(), "state-store-password")
	require.ErrorIs(t, named.Token.Validate(), secrets.ErrNotAllowed)
	v, err := named.Allowed.Resolve()
	require.NoError(t, err)
	require.Equal(t, "app-token", v)

	own, err := secrets.Ref{Env: "PGPASSWORD"}.Resolve()
	require.NoError(t, err, "the operator's own reference")
	require.Equal(t, "state-store-password", own)

	secrets.Restrict(nil)
	_, err = named.Token.Resolve()
	require.NoError(t, err, "no authority, no limit")
}
