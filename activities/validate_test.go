package activities_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/file"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/secrets"
)

// validationJob reads users and groups from two files.
func validationJob(t *testing.T, url string) config.Job {
	t.Helper()
	dir := t.TempDir()
	users, groups := filepath.Join(dir, "users.csv"), filepath.Join(dir, "groups.json")
	require.NoError(t, os.WriteFile(users, []byte("employeeId,userName,department\nE1,a@example.org,Sales\n"), 0o600))
	require.NoError(t, os.WriteFile(groups, []byte(`[{"groupId":"G1","displayName":"Sales","members":["E1"]}]`), 0o600))
	return config.Job{
		Name: "validate",
		Source: config.Source{Connector: &file.Set{
			{Path: users, IDColumn: "employeeId"},
			{Path: groups, Type: connectors.Group, IDColumn: "groupId", MembersColumn: "members"},
		}},
		Target: config.Target{Connector: &scim.Config{BaseURL: url, Token: secrets.Ref{Env: "TEST_VALIDATE_TOKEN"}}},
		Objects: []config.Object{
			{ObjectMapping: mapping.ObjectMapping{Name: "users", SourceObject: "User", TargetObject: "User",
				Attributes: []mapping.AttributeMapping{
					{Target: "userName", Type: mapping.Direct, Source: "userName", MatchingPriority: 1},
					{Target: "title", Type: mapping.Expression, Expression: `Join(" ", [department], IIF([IsSoftDeleted], "(left)", ""))`},
				},
				Scope: mapping.ScopingFilter{Groups: []mapping.FilterGroup{{Clauses: []mapping.Clause{
					{Attribute: "department", Operator: "IS NOT NULL"},
				}}}},
			}},
			{ObjectMapping: mapping.ObjectMapping{Name: "groups", SourceObject: "Group", TargetObject: "Group", Attributes: []mapping.AttributeMapping{
				{Target: "displayName", Type: mapping.Direct, Source: "displayName", MatchingPriority: 1},
			}}},
		},
	}
}

// validationProblems runs ValidateJob and returns the problems it refused
// the job for.
func validationProblems(t *testing.T, r rig, job config.Job) config.Problems {
	t.Helper()
	_, err := r.env.ExecuteActivity(r.acts.ValidateJob, job)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "ValidateJob: %v", err)
	require.Equal(t, api.ErrInvalidConfiguration, ae.Type(), "%v", err)
	require.True(t, ae.NonRetryable(), "an invalid configuration is retried")
	var ps config.Problems
	require.NoError(t, ae.Details(&ps))
	return ps
}

func TestValidateJobChecksSourceAttributes(t *testing.T) {
	r := newRig(t, "TEST_VALIDATE_TOKEN", unwrapped)
	job := validationJob(t, r.url)
	v, err := r.env.ExecuteActivity(r.acts.ValidateJob, job)
	require.NoError(t, err, "a job that reads what the files have")
	var ok activities.ValidatedJob
	require.NoError(t, v.Get(&ok))
	require.Empty(t, ok.Notes)

	// A typo in an expression and in a scoping clause of the users, and in
	// a direct mapping of the groups: each is named where it is.
	job.Objects[0].Attributes[1].Expression = `Join(" ", [departmnet], IIF([IsSoftDeleted], "(left)", ""))`
	job.Objects[0].Scope.Groups[0].Clauses[0].Attribute = "Department"
	job.Objects[1].Attributes[0].Source = "displayname"
	ps := validationProblems(t, r, job)
	require.Len(t, ps, 3, "%v", ps)
	text := ps.Error()
	for _, want := range []string{
		`objects[0]: object mapping "users": mapping "title": expression column 11: unknown source attribute [departmnet]: not in the header of ` + (*job.Source.Connector.(*file.Set))[0].Path + `; did you mean "department"?`,
		`objects[0]: object mapping "users": mapping "users": scope group 1 clause 1 attribute: unknown source attribute "Department"`,
		`objects[1]: object mapping "groups": mapping "displayName": source: unknown source attribute "displayname": not in the fields of the records of ` + (*job.Source.Connector.(*file.Set))[1].Path + `; did you mean "displayName"?`,
	} {
		require.Contains(t, text, want)
	}
}

func TestValidateJobNotesWhatItCannotCheck(t *testing.T) {
	r := newRig(t, "TEST_VALIDATE_TOKEN", unwrapped)
	job := validationJob(t, r.url)
	// An export without records has no fields to compare with: the job is
	// not refused for it, and the result says why nothing was checked.
	require.NoError(t, os.WriteFile((*job.Source.Connector.(*file.Set))[1].Path, []byte("[]"), 0o600))
	job.Objects[1].Attributes[0].Source = "displayname"
	v, err := r.env.ExecuteActivity(r.acts.ValidateJob, job)
	require.NoError(t, err)
	var ok activities.ValidatedJob
	require.NoError(t, v.Get(&ok))
	require.Len(t, ok.Notes, 1)
	require.Contains(t, ok.Notes[0], `objects[1] (groups): source attribute names were not checked`)
	require.Contains(t, ok.Notes[0], "has no records")
}

func TestValidateJobReportsAnUnreachableSource(t *testing.T) {
	r := newRig(t, "TEST_VALIDATE_TOKEN", unwrapped)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	job := validationJob(t, r.url)
	job.Source = config.Source{Connector: &ldap.Config{Connection: ldap.Connection{URL: "ldap://" + addr}, BaseDNs: []string{"dc=example,dc=org"}}}
	job.Objects = job.Objects[:1]
	_, err = r.env.ExecuteActivity(r.acts.ValidateJob, job)
	require.Error(t, err)
	require.Contains(t, err.Error(), "source ldap://"+addr)
	require.Contains(t, err.Error(), "connection refused")
	// The source is down, not the configuration wrong.
	var ae *temporal.ApplicationError
	require.False(t, errors.As(err, &ae) && ae.Type() == api.ErrInvalidConfiguration, "%v", err)
}

func TestValidateJobLeavesRefusedCredentialsToTheCycle(t *testing.T) {
	r := newRig(t, "TEST_VALIDATE_TOKEN", unwrapped)
	job := validationJob(t, r.url)
	t.Setenv("TEST_VALIDATE_SOURCE_TOKEN", "wrong")
	job.Source = config.Source{Connector: &scim.Config{BaseURL: r.url, Token: secrets.Ref{Env: "TEST_VALIDATE_SOURCE_TOKEN"}}}
	job.Objects = job.Objects[:1]
	job.Objects[0].Scope = mapping.ScopingFilter{}
	job.Objects[0].Attributes = job.Objects[0].Attributes[:1]
	// The cycle meets the refusal and quarantines the job until the
	// credentials are fixed; validation says it could not check.
	v, err := r.env.ExecuteActivity(r.acts.ValidateJob, job)
	require.NoError(t, err)
	var ok activities.ValidatedJob
	require.NoError(t, v.Get(&ok))
	require.Len(t, ok.Notes, 1)
	require.Contains(t, ok.Notes[0], "source "+r.url+" refused the credentials")
}
