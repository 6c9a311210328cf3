package config_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/ldap"
)

// The example jobs of the Active Directory architectures load and
// validate: on-premises HR to AD, AD to applications, and cloud HR to AD
// with writeback.
func TestActiveDirectoryExamplesValidate(t *testing.T) {
	for _, secret := range []string{"AD_BIND_PASSWORD", "SAMPLEAPP_TOKEN", "HR_CLIENT_SECRET"} {
		t.Setenv(secret, "example")
	}
	for name, keys := range map[string][2]string{
		"hr-to-active-directory.yaml":        {"file", "ldap"},
		"active-directory-to-sampleapp.yaml": {"ldap", "scim"},
		"cloud-hr-to-active-directory.yaml":  {"scim", "ldap"},
	} {
		job, err := config.Load(filepath.Join("..", "examples", name))
		require.NoError(t, err, name)
		require.NoError(t, job.Validate(), name)
		require.Equal(t, keys[0], job.Source.Key(), name)
		require.Equal(t, keys[1], job.Target.Key(), name)
		if tc, ok := job.Target.Connector.(*ldap.TargetConfig); ok {
			require.Equal(t, ldap.ActiveDirectory, tc.Dialect, name)
			require.Equal(t, "parentDistinguishedName", tc.Users.ParentAttribute, name)
		}
	}
}
