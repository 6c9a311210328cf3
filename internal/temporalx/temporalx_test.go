package temporalx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// isolate clears the TEMPORAL_* variables of the machine running the test
// and points the loader at path, so that only what a test sets is read.
func isolate(t *testing.T, path string) {
	t.Helper()
	for _, v := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE", "TEMPORAL_TLS",
		"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", path)
}

func TestClientOptionsFromEnvironmentConfiguration(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "temporal.toml")
	require.NoError(t, os.WriteFile(profile, []byte(`
[profile.default]
address = "127.0.0.1:7233"

[profile.cloud]
address = "prod.a1b2c.tmprl.cloud:7233"
namespace = "prod.a1b2c"
api_key = "key-from-profile"

[profile.mtls]
address = "temporal.internal:7233"
namespace = "provisioning"
[profile.mtls.tls]
server_name = "temporal.internal"
`), 0o600))

	t.Run("nothing set: the local dev server", func(t *testing.T) {
		isolate(t, filepath.Join(dir, "absent.toml"))
		opts, err := Connection{}.ClientOptions()
		require.NoError(t, err)
		require.Equal(t, DefaultAddress, opts.HostPort)
		require.Equal(t, DefaultNamespace, opts.Namespace)
		require.Equal(t, "plaintext", Security(opts))
	})
	t.Run("a profile with an API key turns TLS on", func(t *testing.T) {
		isolate(t, profile)
		t.Setenv("TEMPORAL_PROFILE", "cloud")
		opts, err := Connection{}.ClientOptions()
		require.NoError(t, err)
		require.Equal(t, "prod.a1b2c.tmprl.cloud:7233", opts.HostPort)
		require.Equal(t, "prod.a1b2c", opts.Namespace)
		require.Equal(t, "TLS, API key", Security(opts))
	})
	t.Run("variables over the profile, flags over both", func(t *testing.T) {
		isolate(t, profile)
		t.Setenv("TEMPORAL_PROFILE", "mtls")
		t.Setenv("TEMPORAL_NAMESPACE", "from-env")
		opts, err := Connection{}.ClientOptions()
		require.NoError(t, err)
		require.Equal(t, "temporal.internal:7233", opts.HostPort)
		require.Equal(t, "from-env", opts.Namespace)
		require.Equal(t, "temporal.internal", opts.ConnectionOptions.TLS.ServerName)
		require.Equal(t, "TLS", Security(opts))

		opts, err = Connection{Address: "10.0.0.5:7233", Namespace: "from-flag"}.ClientOptions()
		require.NoError(t, err)
		require.Equal(t, "10.0.0.5:7233", opts.HostPort)
		require.Equal(t, "from-flag", opts.Namespace)
	})
	t.Run("a profile named but missing is an error naming it", func(t *testing.T) {
		isolate(t, profile)
		t.Setenv("TEMPORAL_PROFILE", "staging")
		_, err := Connection{}.ClientOptions()
		require.ErrorContains(t, err, "staging")
	})
	t.Run("a client certificate that cannot be read is an error", func(t *testing.T) {
		isolate(t, filepath.Join(dir, "absent.toml"))
		t.Setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", filepath.Join(dir, "client.pem"))
		t.Setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", filepath.Join(dir, "client.key"))
		_, err := Connection{}.ClientOptions()
		require.ErrorContains(t, err, "client.pem")
	})
}
