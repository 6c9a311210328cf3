package scim_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

const conformanceToken = "conformance-token"

// sampleApp serves a sample application for the test and returns the
// configuration of a connection to it.
func sampleApp(t *testing.T) scim.Config {
	t.Helper()
	ts := httptest.NewServer(sampleapp.New(sampleapp.Options{Token: conformanceToken, MaxResults: 3}).Handler())
	t.Cleanup(ts.Close)
	t.Setenv("SCIM_CONFORMANCE_TOKEN", conformanceToken)
	t.Setenv("SCIM_CONFORMANCE_WRONG", "not-the-token")
	return scim.Config{BaseURL: ts.URL + "/scim/v2", Token: secrets.Ref{Env: "SCIM_CONFORMANCE_TOKEN"}, MaxRetries: 1}
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func user(i int) connectors.Attributes {
	return connectors.Attributes{"userName": fmt.Sprintf("user%d@example.org", i), "displayName": fmt.Sprintf("User %d", i)}
}

func openClient(t *testing.T, cfg scim.Config) *scim.Client {
	t.Helper()
	c, err := cfg.Open(context.Background(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wrongToken(cfg scim.Config) scim.Config {
	cfg.Token = secrets.Ref{Env: "SCIM_CONFORMANCE_WRONG"}
	return cfg
}

const missingID = "00000000-0000-0000-0000-000000000000"

func TestConformanceSource(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type:      connectors.User,
		PageSize:  2,
		MissingID: missingID,
		Open: func(t *testing.T, n int) connectors.Source {
			cfg := sampleApp(t)
			c := openClient(t, cfg)
			defer c.Close()
			for i := range n {
				if _, err := c.Create(context.Background(), connectors.User, user(i)); err != nil {
					t.Fatal(err)
				}
			}
			s, err := cfg.OpenSource(context.Background(), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Unauthorized: func(t *testing.T) (connectors.Source, error) {
			return wrongToken(sampleApp(t)).OpenSource(context.Background(), quietLog())
		},
	})
}

func TestConformanceTarget(t *testing.T) {
	connectortest.TestTarget(t, connectortest.TargetHarness{
		Type:      connectors.User,
		Key:       "userName",
		Object:    user,
		MissingID: missingID,
		Open: func(t *testing.T) connectors.Target {
			return openClient(t, sampleApp(t))
		},
		Unauthorized: func(t *testing.T) (connectors.Target, error) {
			return wrongToken(sampleApp(t)).Open(context.Background(), quietLog())
		},
	})
}
