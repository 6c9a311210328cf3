package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/file"
)

const valid = `name: hr
interval: 90s
source:
  file: {path: hr.csv, idColumn: employeeId}
target:
  application: app
  scim: {baseURL: "https://app.example.com/scim/v2", token: {env: CONFIG_TEST_TOKEN}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, type: Direct, source: userName, matchingPriority: 1}
`

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestLoadResolvesPathsAndValidates(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hr.csv", "employeeId,userName\nE1,a@example.com\n")
	t.Setenv("CONFIG_TEST_TOKEN", "s3cret")
	job, err := config.Load(write(t, dir, "job.yaml", valid))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "hr.csv"), job.Source.Connector.(*file.Config).Path)
	require.Equal(t, 90*time.Second, job.IntervalOrDefault())
	require.NoError(t, job.Validate())
	require.NotEmpty(t, job.MappingVersion())
}

func TestLoadRefusesUnknownFields(t *testing.T) {
	_, err := config.Parse([]byte(strings.Replace(valid, "interval: 90s", "intervall: 90s", 1)))
	require.ErrorContains(t, err, "intervall")
}

func TestValidateNamesEveryField(t *testing.T) {
	dir := t.TempDir()
	bad := strings.NewReplacer(
		"name: hr", "name: Not A Name",
		"interval: 90s", "interval: 10ms\noptions: {escrowThreshold: {percent: 140}}",
		`baseURL: "https://app.example.com/scim/v2", `, "",
		"CONFIG_TEST_TOKEN", "CONFIG_TEST_ABSENT",
	).Replace(valid)
	job, err := config.Load(write(t, dir, "job.yaml", bad))
	require.NoError(t, err)
	err = job.Validate()
	var ps config.Problems
	require.True(t, errors.As(err, &ps), "%v", err)
	fields := map[string]string{}
	for _, p := range ps {
		fields[p.Field] = p.Message
	}
	require.Contains(t, fields, "name")
	require.Contains(t, fields, "interval")
	require.Contains(t, fields, "options.escrowThreshold")
	require.Contains(t, fields, "source.file.path", "the HR file is not there")
	require.Contains(t, fields, "target.scim.baseURL")
	require.Contains(t, fields["target.scim.token"], "CONFIG_TEST_ABSENT")
}

func TestValidateMappingProblems(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hr.csv", "employeeId,userName\nE1,a@example.com\n")
	t.Setenv("CONFIG_TEST_TOKEN", "s3cret")
	bad := strings.Replace(valid, "{target: userName, type: Direct, source: userName, matchingPriority: 1}",
		`{target: userName, type: Expression, expression: 'Jion(",", [userName])', matchingPriority: 1}`, 1)
	job, err := config.Load(write(t, dir, "job.yaml", bad))
	require.NoError(t, err)
	err = job.Validate()
	require.ErrorContains(t, err, "objects[0]")
	require.ErrorContains(t, err, "Jion")
}

func TestExactlyOneConnection(t *testing.T) {
	job, err := config.Parse([]byte(strings.Replace(valid, "  file: {path: hr.csv, idColumn: employeeId}\n", "", 1)))
	require.NoError(t, err)
	require.ErrorContains(t, job.Validate(), "source: set one of")
}

func TestDurationRoundTrip(t *testing.T) {
	var d config.Duration
	require.NoError(t, d.UnmarshalJSON([]byte(`"1h30m"`)))
	require.Equal(t, config.Duration(90*time.Minute), d)
	b, err := d.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, `"1h30m0s"`, string(b))
	require.Error(t, d.UnmarshalJSON([]byte(`"soon"`)))
}

// Configuration parsing survives any input: it returns a job or an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("name: [unclosed"))
	f.Add([]byte("objects: {a: b}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		job, err := config.Parse(b)
		if err == nil {
			_ = job.Validate()
		}
	})
}

// A configuration can take its mappings from an exported Azure schema.
func TestAzureSchemaIsExpanded(t *testing.T) {
	dir := t.TempDir()
	schema, err := os.ReadFile(filepath.Join("..", "mapping", "azureschema", "testdata", "schema.json"))
	require.NoError(t, err)
	write(t, dir, "schema.json", string(schema))
	cfg := strings.Replace(valid, "objects:\n  - sourceObject: User\n    targetObject: User\n    attributes:\n      - {target: userName, type: Direct, source: userName, matchingPriority: 1}\n", "azureSchema: schema.json\n", 1)
	job, err := config.Load(write(t, dir, "job.yaml", cfg))
	require.NoError(t, err)
	require.Empty(t, job.AzureSchema, "the workflow input carries the mappings, not the file name")
	require.Len(t, job.Objects, 1)
	require.Equal(t, "userName", job.Objects[0].Attributes[0].Target)
	require.Len(t, job.Objects[0].Scope.Groups, 2)

	exported, err := job.ExportAzureSchema()
	require.NoError(t, err)
	require.Contains(t, string(exported), `"targetAttributeName": "userName"`)
}

// Azure's worked examples of its escrow thresholds, which are the defaults.
func TestEscrowThresholdAzureExamples(t *testing.T) {
	var def config.EscrowThreshold
	for _, c := range []struct {
		failed, succeeded, references int
		want                          string
	}{
		{45000, 0, 0, "EncounteredTotalEscrowThreshold"},
		{30000, 5000, 0, "EncounteredEscrowProportionThreshold"},
		{20000, 100000, 0, ""},
		{40000, 0, 21000, "EncounteredBaseEscrowThreshold"},
		{4999, 0, 0, ""},
		{5000, 5000, 0, "EncounteredEscrowProportionThreshold"},
	} {
		got := def.Exceeded(c.failed, c.failed+c.succeeded, c.references)
		if c.want == "" && got != "" || c.want != "" && !strings.HasPrefix(got, c.want+": ") {
			t.Errorf("%d failed, %d succeeded, %d reference failures: %q, want %s", c.failed, c.succeeded, c.references, got, c.want)
		}
	}
	if got := (config.EscrowThreshold{Minimum: 1, Percent: 90}).Exceeded(8, 10, 0); got != "" {
		t.Errorf("80%% is under a 90%% threshold: %q", got)
	}
}
