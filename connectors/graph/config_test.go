package graph_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/graph"
	"github.com/openprovisioning/provisioner/secrets"
)

func TestConfigProblemsNameTheirFields(t *testing.T) {
	t.Setenv("PROVISIONING_SECRET_TEST_CERT", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----")
	for _, c := range []struct {
		cfg  graph.Config
		want string
	}{
		{graph.Config{}, "tenant: required"},
		{graph.Config{Tenant: "common"}, `tenant: "common" is not one directory`},
		{graph.Config{Tenant: "contoso.com", ClientID: "my-app"}, "clientID: required: the application (client) ID, a GUID"},
		{graph.Config{Tenant: "contoso.com"}, "clientSecret: set exactly one of clientSecret, certificate"},
		{graph.Config{ClientSecret: secrets.Ref{Env: "PROVISIONING_SECRET_NOT_SET"}}, "clientSecret: environment variable PROVISIONING_SECRET_NOT_SET is not set"},
		{graph.Config{Certificate: secrets.Ref{Env: "PROVISIONING_SECRET_TEST_CERT"}}, "certificate: holds no PEM certificate (environment variable PROVISIONING_SECRET_TEST_CERT)"},
		{graph.Config{GraphURL: "http://graph.example.org/v1.0"}, "graphURL: \"http://graph.example.org/v1.0\" must be https"},
		{graph.Config{Authority: "https://login.example.org?x=1"}, "authority: \"https://login.example.org?x=1\" must have no credentials, query or fragment"},
		{graph.Config{ServicePrincipal: "My App"}, `servicePrincipal: "My App" is not an object ID`},
		{graph.Config{NestedGroupAssignment: true}, "nestedGroupAssignment: needs servicePrincipal"},
		{graph.Config{PageSize: 1000}, "pageSize: must be between 1 and 999"},
		{graph.Config{CACertFile: "/nonexistent/ca.pem"}, "caCertFile: open /nonexistent/ca.pem"},
	} {
		err := c.cfg.Validate()
		require.Error(t, err)
		require.Contains(t, err.Error(), c.want)
		connectortest.Problems(t, err)
	}
}

func TestConfigNamesAndResolves(t *testing.T) {
	c := graph.Config{Tenant: "contoso.com", ClientID: "6731de76-14a6-49ae-97bc-6eba6914391e", Certificate: secrets.Ref{File: "app.pem"}, CACertFile: "ca.pem"}
	c.ResolvePaths("/etc/provisioner")
	require.Equal(t, "/etc/provisioner/app.pem", c.Certificate.File)
	require.Equal(t, "/etc/provisioner/ca.pem", c.CACertFile)
	require.Equal(t, []connectors.Field[secrets.Ref]{{Field: "certificate", Value: c.Certificate}}, c.Secrets())
	require.Equal(t, "https://graph.microsoft.com/v1.0 (tenant contoso.com)", c.Address())
	key, ok := connectors.SourceKey(&c)
	require.True(t, ok)
	require.Equal(t, "graph", key)
}

// Open refuses a certificate whose key is not its own, without saying
// anything of the key.
func TestCertificateMustMatchItsKey(t *testing.T) {
	one, two := startTenant(t), startTenant(t)
	certOne, _, _ := strings.Cut(one.CertificatePEM, "-----BEGIN RSA PRIVATE KEY-----")
	keyTwo := two.CertificatePEM[strings.Index(two.CertificatePEM, "-----BEGIN RSA PRIVATE KEY-----"):]
	path := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(path, []byte(certOne+keyTwo), 0o600))
	cfg := one.cfg
	cfg.ClientSecret, cfg.Certificate = secrets.Ref{}, secrets.Ref{File: path}
	err := cfg.Validate()
	require.ErrorContains(t, err, "certificate: the private key is not the certificate's")
	require.NotContains(t, err.Error(), "PRIVATE KEY")
}
