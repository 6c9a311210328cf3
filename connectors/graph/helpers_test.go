package graph_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/graph"
	"github.com/openprovisioning/provisioner/internal/testenv/graphapi"
	"github.com/openprovisioning/provisioner/secrets"
)

const secretEnv = "PROVISIONING_SECRET_TEST_GRAPH"

// tenant is a Graph-compatible server and a configuration reading it
// with the client secret.
type tenant struct {
	*graphapi.Server
	cfg graph.Config
}

func startTenant(t *testing.T) *tenant {
	t.Helper()
	srv, err := graphapi.Start("8c3dad1d-b6bc-4f8b-939b-8263372eced6")
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, srv.TLSCertificate(), 0o600))
	t.Setenv(secretEnv, srv.Secret)
	return &tenant{Server: srv, cfg: graph.Config{
		Tenant: srv.Tenant, ClientID: srv.ClientID, ClientSecret: secrets.Ref{Env: secretEnv},
		Authority: srv.URL, GraphURL: srv.GraphURL, CACertFile: ca, PageSize: 3,
	}}
}

func (tn *tenant) open(t *testing.T, cfg graph.Config) *graph.Client {
	t.Helper()
	require.NoError(t, cfg.Validate())
	log := logrus.New()
	log.SetOutput(testWriter{t})
	c, err := cfg.Open(context.Background(), logrus.NewEntry(log))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// readAll reads every page from since and returns the objects by ID and
// the watermark.
func readAll(t *testing.T, s connectors.Source, typ connectors.ObjectType, since string, attrs ...string) (map[string]connectors.Object, string) {
	t.Helper()
	out := map[string]connectors.Object{}
	req := connectors.ReadRequest{Type: typ, Since: since, Attributes: attrs, PageSize: 2}
	for range 1000 {
		page, err := s.Read(context.Background(), req)
		require.NoError(t, err)
		for _, o := range page.Objects {
			_, dup := out[o.ID]
			require.False(t, dup, "object %s read twice", o.ID)
			out[o.ID] = o
		}
		if page.Cursor == "" {
			require.NotEmpty(t, page.Watermark, "the last page has no watermark")
			return out, page.Watermark
		}
		req.Cursor = page.Cursor
	}
	t.Fatal("the read did not end")
	return nil, ""
}

func secretsRef(env string) secrets.Ref { return secrets.Ref{Env: env} }
