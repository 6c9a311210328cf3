package activities_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
)

// A connection test of a job reading OpenLDAP: one page of people read
// from slapd, and a bind with a wrong password named as refused
// credentials.
func TestTestConnectionLDAPSource(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := slapd.Start(t, slapd.Options{})
	dir.Modify(t, "dn: uid=u01,"+slapd.People+"\nchangetype: add\nobjectClass: inetOrgPerson\nuid: u01\ncn: Ada One\nsn: One\nmail: u01@example.org\n\n")
	r := newRig(t, "TEST_CONNECTION_LDAP_TOKEN", unwrapped)
	wrong := filepath.Join(t.TempDir(), "wrong")
	require.NoError(t, os.WriteFile(wrong, []byte("not the password"), 0o600))
	job := func(passwordFile string) config.Job {
		return config.Job{
			Name: "ldap-test-connection",
			Source: config.Source{Connector: &ldap.Config{
				Connection: ldap.Connection{URL: dir.URL, BindDN: slapd.RootDN, BindPassword: secrets.Ref{File: passwordFile}, Timeout: ldap.Duration(5 * time.Second)},
				BaseDNs:    []string{slapd.People}, IDAttribute: "uid",
			}},
			Target: config.Target{Connector: &scim.Config{BaseURL: r.url, Token: secrets.Ref{Env: "TEST_CONNECTION_LDAP_TOKEN"}}},
			Objects: []config.Object{{ObjectMapping: mapping.ObjectMapping{SourceObject: "User", TargetObject: "User", Attributes: []mapping.AttributeMapping{
				{Target: "userName", Type: mapping.Direct, Source: "mail", MatchingPriority: 1},
			}}}},
		}
	}
	run := func(j config.Job) api.ConnectionTest {
		v, err := r.env.ExecuteActivity(r.acts.TestConnection, j)
		require.NoError(t, err)
		var res api.ConnectionTest
		require.NoError(t, v.Get(&res))
		return res
	}

	res := run(job(dir.RootPWFile))
	require.True(t, res.Passed(), "%+v", res.Steps)
	require.Equal(t, "read one page of User from the source", res.Steps[1].Name)
	require.Equal(t, "1 objects on the first page", res.Steps[1].Note)

	res = run(job(wrong))
	require.False(t, res.Passed())
	bind := res.Steps[0]
	require.Equal(t, api.FailureUnauthorized, bind.Failure, "%+v", res.Steps)
	require.Contains(t, bind.Error, "Invalid Credentials")
	require.NotContains(t, bind.Error, "not the password")
	require.Len(t, res.Steps, 5, "the source's read is left out; the target is tested all the same")
}
