package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/secrets"
)

func TestResolve(t *testing.T) {
	t.Setenv("SECRETS_TEST_TOKEN", "  tok  \n")
	v, err := secrets.Ref{Env: "SECRETS_TEST_TOKEN"}.Resolve()
	require.NoError(t, err)
	require.Equal(t, "tok", v)

	p := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(p, []byte("from-file\n"), 0o600))
	v, err = secrets.Ref{File: p}.Resolve()
	require.NoError(t, err)
	require.Equal(t, "from-file", v)
}

func TestResolveFailures(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for name, ref := range map[string]secrets.Ref{
		"unset variable": {Env: "SECRETS_TEST_UNSET"},
		"missing file":   {File: filepath.Join(t.TempDir(), "absent")},
		"empty file":     {File: empty},
		"nothing named":  {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ref.Resolve()
			require.True(t, errors.Is(err, secrets.ErrMissing), "%v", err)
		})
	}
	_, err := secrets.Ref{Env: "A", File: "b"}.Resolve()
	require.ErrorContains(t, err, "not both")
}

func TestStringNamesTheReferenceOnly(t *testing.T) {
	t.Setenv("SECRETS_TEST_TOKEN", "tok")
	require.Equal(t, "environment variable SECRETS_TEST_TOKEN", secrets.Ref{Env: "SECRETS_TEST_TOKEN"}.String())
}
