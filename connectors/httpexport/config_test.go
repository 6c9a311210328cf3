package httpexport_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors/httpexport"
)

// A job names the report under source.report, with the file source's
// fields beside the report's own, in YAML and in the JSON of workflow
// inputs alike; unknown fields are refused.
func TestConfigInAJob(t *testing.T) {
	const job = `name: workday
source:
  report:
    url: https://hr.example/ccx/service/customreport2/acme/ISU/Workers?format=json
    basic: {username: ISU@acme, password: {env: PROVISIONING_SECRET_WORKDAY}}
    caFile: ca.pem
    timeout: 10m
    recordsPath: Report_Entry
    idColumn: Employee_ID
    disabledColumn: Active
    disabledValues: ["0"]
target:
  application: app
  scim: {baseURL: "https://app.example/scim/v2", token: {env: PROVISIONING_SECRET_APP}}
`
	j, err := config.Parse([]byte(job))
	require.NoError(t, err)
	c := j.Source.Connector.(*httpexport.Config)
	require.Equal(t, "Employee_ID", c.IDColumn)
	require.Equal(t, "Report_Entry", c.RecordsPath)
	require.Equal(t, "ISU@acme", c.Basic.Username)

	b, err := json.Marshal(j)
	require.NoError(t, err)
	require.Contains(t, string(b), `"source":{"report":{"url":"https://hr.example/ccx/service/customreport2/acme/ISU/Workers?format=json","basic":`)
	require.Contains(t, string(b), `"timeout":"10m0s","idColumn":"Employee_ID"`)
	require.NotContains(t, string(b), `"path"`)
	var back config.Job
	require.NoError(t, json.Unmarshal(b, &back))
	again, err := json.Marshal(back)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(again))
	require.Equal(t, c.DisabledValues, back.Source.Connector.(*httpexport.Config).DisabledValues)

	_, err = config.Parse([]byte(strings.Replace(job, "    idColumn:", "    headerRow: 2\n    idColumn:", 1)))
	require.ErrorContains(t, err, "field headerRow not found")
}
