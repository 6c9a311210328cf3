package config_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
)

// validateProblems validates the job and returns its problems.
func validateProblems(t *testing.T, job *config.Job) config.Problems {
	t.Helper()
	var ps config.Problems
	require.True(t, errors.As(job.Validate(), &ps))
	return ps
}

// Problems of nested connector settings are named by their whole path.
func TestValidateNamesNestedConnectorFields(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "users.csv", "employeeId,userName\nE1,a@example.com\n")
	write(t, dir, "groups.csv", "groupId,members\nG1,E1\n")
	yaml := strings.NewReplacer(
		"  file: {path: hr.csv, idColumn: employeeId}",
		"  files:\n    - {path: users.csv, idColumn: employeeId}\n    - {path: groups.csv, idColumn: id, type: Group}",
		`  scim: {baseURL: "https://app.example.com/scim/v2", token: {env: CONFIG_TEST_TOKEN}}`,
		`  ldap: {url: "ldap://ldap.example.org", users: {container: "not a DN", dnTemplate: "uid={uid}", objectClasses: [inetOrgPerson]}}`,
	).Replace(valid)
	job, err := config.Load(write(t, dir, "job.yaml", yaml))
	require.NoError(t, err)
	ps := validateProblems(t, job)
	require.Contains(t, ps, config.Problem{Field: "source.files[1].idColumn", Message: `column "id" not in the header of ` + filepath.Join(dir, "groups.csv")})
	require.Contains(t, ps, config.Problem{Field: "target.ldap.users.container", Message: `"not a DN" is not a DN`})
	require.Len(t, ps, 2, "%v", ps)
}

// A secret that is not there is named at its field; a mapping's problems
// are their object's, each with its own description.
func TestValidateNamesSecretFields(t *testing.T) {
	job, err := config.Parse([]byte(strings.NewReplacer(
		"CONFIG_TEST_TOKEN", "CONFIG_TEST_ABSENT",
		"{target: userName, type: Direct, source: userName, matchingPriority: 1}",
		"{target: userName, type: Expression, expression: 'Jion([userName])', matchingPriority: 1}",
	).Replace(valid)))
	require.NoError(t, err)
	job.Source.Connector = &listSource{Users: []string{"ada"}}
	require.Equal(t, config.Problems{
		{Field: "target.scim.token", Message: "environment variable CONFIG_TEST_ABSENT is not set"},
		{Field: "objects[0]", Message: `mapping "userName": expression column 1: unknown function "Jion"`},
	}, validateProblems(t, job))
}

// untypedSource reports its problems as plain errors, not FieldErrors.
type untypedSource struct{ listSource }

func init() {
	connectors.RegisterSource("untyped", func() connectors.SourceConfig { return &untypedSource{} })
}

func (untypedSource) Validate() error {
	return errors.Join(errors.New("users: looks like a field but is not one"), errors.New("the list is empty"))
}

func (c untypedSource) OpenSource(ctx context.Context, log *logrus.Entry) (connectors.Source, error) {
	return c.listSource.OpenSource(ctx, log)
}

// A connector's problem that is not a FieldError is its connection's,
// its text taken whole.
func TestValidateTakesUntypedConnectorErrorsWhole(t *testing.T) {
	job, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	t.Setenv("CONFIG_TEST_TOKEN", "s3cret")
	job.Source.Connector = &untypedSource{}
	require.Equal(t, config.Problems{
		{Field: "source.untyped", Message: "users: looks like a field but is not one"},
		{Field: "source.untyped", Message: "the list is empty"},
	}, validateProblems(t, job))
}
