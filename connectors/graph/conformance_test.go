package graph_test

import (
	"fmt"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/graph"
	"github.com/openprovisioning/provisioner/internal/testenv/graphapi"
)

func TestConformance(t *testing.T) {
	for _, typ := range []connectors.ObjectType{connectors.User, connectors.Group} {
		t.Run(string(typ), func(t *testing.T) {
			connectortest.TestSource(t, connectortest.SourceHarness{
				Type: typ,
				Open: func(t *testing.T, n int) connectors.Source {
					tn := startTenant(t)
					for i := range n {
						if typ == connectors.User {
							tn.AddUser(graphapi.User{"userPrincipalName": fmt.Sprintf("user%d@contoso.com", i), "displayName": fmt.Sprint("User ", i)})
						} else {
							tn.AddGroup(fmt.Sprint("Group ", i))
						}
					}
					return tn.open(t, tn.cfg)
				},
				PageSize:  2,
				MissingID: graphapi.NewID(),
				Unauthorized: func(t *testing.T) (connectors.Source, error) {
					tn := startTenant(t)
					t.Setenv(secretEnv, "not-the-secret")
					return tn.cfg.OpenSource(t.Context(), nil)
				},
			})
		})
	}
}

// A certificate's signed client assertion gets a token as the secret does.
func TestConformanceWithCertificate(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type: connectors.User,
		Open: func(t *testing.T, n int) connectors.Source {
			tn := startTenant(t)
			for i := range n {
				tn.AddUser(graphapi.User{"userPrincipalName": fmt.Sprintf("user%d@contoso.com", i)})
			}
			return tn.open(t, certificateConfig(t, tn, tn.CertificatePEM))
		},
		PageSize:  2,
		MissingID: graphapi.NewID(),
		Unauthorized: func(t *testing.T) (connectors.Source, error) {
			tn := startTenant(t)
			other := startTenant(t) // a certificate the application never registered
			return certificateConfig(t, tn, other.CertificatePEM).OpenSource(t.Context(), nil)
		},
	})
}

func certificateConfig(t *testing.T, tn *tenant, pem string) graph.Config {
	t.Setenv("PROVISIONING_SECRET_TEST_GRAPH_CERT", pem)
	cfg := tn.cfg
	cfg.ClientSecret = secretsRef("")
	cfg.Certificate = secretsRef("PROVISIONING_SECRET_TEST_GRAPH_CERT")
	return cfg
}
