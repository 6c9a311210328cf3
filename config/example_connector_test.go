package config_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
)

// listSource is a whole source connector, as a new one is written: its
// configuration validates and opens, and it registers itself under its
// key. Nothing else changes for jobs to use it.
type listSource struct {
	Users []string `json:"users" yaml:"users"`
}

func init() {
	connectors.RegisterSource("list", func() connectors.SourceConfig { return &listSource{} })
}

// Validate reports each problem at its field, relative to the connection.
func (c listSource) Validate() error {
	if len(c.Users) == 0 {
		return connectors.Invalid("users", "list at least one user")
	}
	return nil
}

func (c listSource) OpenSource(context.Context, *logrus.Entry) (connectors.Source, error) {
	return c, nil
}

func (c listSource) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

func (c listSource) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	if err := ctx.Err(); err != nil {
		return connectors.Page{}, err
	}
	var page connectors.Page
	for _, u := range c.Users {
		page.Objects = append(page.Objects, connectors.Object{ID: u, Attributes: connectors.Attributes{"userName": u}})
	}
	return page, nil
}

func (c listSource) Close() error { return nil }

func TestARegisteredConnectorIsConfigured(t *testing.T) {
	job, err := config.Parse([]byte(strings.Replace(valid, "file: {path: hr.csv, idColumn: employeeId}", "list: {users: [ada, grace]}", 1)))
	require.NoError(t, err)
	t.Setenv("CONFIG_TEST_TOKEN", "s3cret")
	require.NoError(t, job.Validate())
	require.Equal(t, "list", job.Source.Key())

	job.Source.Connector = &listSource{}
	require.ErrorContains(t, job.Validate(), "source.list.users: list at least one user")

	connectortest.TestSource(t, connectortest.SourceHarness{
		Type: connectors.User,
		Open: func(t *testing.T, n int) connectors.Source {
			var c listSource
			for i := range n {
				c.Users = append(c.Users, fmt.Sprint("u", i))
			}
			s, err := c.OpenSource(context.Background(), nil)
			require.NoError(t, err)
			return s
		},
	})
}
