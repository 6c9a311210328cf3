package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
)

const withGroups = `name: hr
source:
  files:
    - {path: users.csv, idColumn: employeeId}
    - {path: groups.csv, type: Group, idColumn: groupId, membersColumn: members}
target:
  application: app
  scim: {baseURL: "https://app.example.com/scim/v2", token: {env: CONFIG_TEST_TOKEN}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, source: userName, matchingPriority: 1}
      - {target: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", source: managerId, reference: User}
  - sourceObject: Group
    targetObject: Group
    attributes:
      - {target: displayName, source: displayName, matchingPriority: 1}
options:
  assignedGroups: [Engineering]
  flattenNestedGroups: true
`

func problems(t *testing.T, dir, yaml string) map[string]string {
	t.Helper()
	write(t, dir, "users.csv", "employeeId,userName,managerId\nE1,a@example.com,\n")
	write(t, dir, "groups.csv", "groupId,displayName,members\nG1,Engineering,E1\n")
	t.Setenv("CONFIG_TEST_TOKEN", "s3cret")
	job, err := config.Load(write(t, dir, "job.yaml", yaml))
	require.NoError(t, err)
	out := map[string]string{}
	var ps config.Problems
	if err := job.Validate(); err != nil {
		require.True(t, errors.As(err, &ps), "%v", err)
	}
	for _, p := range ps {
		out[p.Field] = p.Message
	}
	return out
}

func TestGroupsConfiguration(t *testing.T) {
	dir := t.TempDir()
	require.Empty(t, problems(t, dir, withGroups))
	job, err := config.Load(write(t, dir, "job.yaml", withGroups))
	require.NoError(t, err)
	require.True(t, job.ManagesGroups())
	require.Equal(t, []connectors.ObjectType{connectors.User}, job.ReferenceTypes())
	require.Equal(t, map[string]connectors.ObjectType{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": connectors.User}, job.References(connectors.User))

	// Assignment is part of what decides the target state.
	other := *job
	other.Options.AssignedGroups = []string{"Sales"}
	require.NotEqual(t, job.MappingVersion(), other.MappingVersion())
}

func TestGroupsConfigurationProblems(t *testing.T) {
	dir := t.TempDir()
	ps := problems(t, dir, strings.Replace(withGroups, "options:", `  - sourceObject: Group
    targetObject: Group
    attributes:
      - {target: displayName, source: displayName, matchingPriority: 1}
      - {target: members, source: members}
      - {target: owner, source: ownerId, reference: Device}
options:`, 1))
	require.Contains(t, ps, "objects[2].sourceObject", "one mapping per object type")
	require.Contains(t, ps["objects[2].attributes[1].target"], "members")
	require.Contains(t, ps["objects[2].attributes[2].reference"], "Device")

	ps = problems(t, dir, `name: hr
source:
  files:
    - {path: users.csv, idColumn: employeeId}
    - {path: users.csv, idColumn: nope}
target:
  application: app
  scim: {baseURL: "https://app.example.com/scim/v2", token: {env: CONFIG_TEST_TOKEN}}
objects:
  - sourceObject: User
    targetObject: User
    attributes:
      - {target: userName, source: userName, matchingPriority: 1}
      - {target: manager, source: managerId, reference: User, matchingPriority: 2}
options:
  assignedGroups: [Engineering, ""]
`)
	require.Contains(t, ps, "source.files[1].type", "two files of users")
	require.Contains(t, ps, "source.files[1].idColumn")
	require.Contains(t, ps, "objects[0].attributes[1].matchingPriority")
	require.Contains(t, ps, "options.assignedGroups", "an empty group name")
}
