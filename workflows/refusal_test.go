package workflows_test

import (
	"context"
	"errors"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/activities"
	"github.com/openprovisioning/provisioner/workflows"
)

// A fetch the source refused ends the cycle with a quarantine reason; any
// other failed fetch fails the cycle, after the fetch's retries.
func (s *cycleSuite) TestRefusedFetchQuarantines() {
	run := func(err error) (workflows.CycleResult, int, error) {
		env := s.NewTestWorkflowEnvironment()
		fetches := 0
		env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil)
		env.OnActivity(acts.FetchChanges, mock.Anything, mock.Anything).Return(func(context.Context, activities.FetchInput) (activities.FetchResult, error) {
			fetches++
			return activities.FetchResult{}, err
		})
		env.ExecuteWorkflow(workflows.ProvisioningCycle, cycleInput())
		var res workflows.CycleResult
		if env.GetWorkflowError() == nil {
			s.Require().NoError(env.GetWorkflowResult(&res))
		}
		return res, fetches, env.GetWorkflowError()
	}
	res, fetches, err := run(temporal.NewNonRetryableApplicationError("LDAP bind: Unauthorized (49): Invalid Credentials", "Unauthorized", nil))
	s.Require().NoError(err)
	s.Equal("EncounteredQuarantineException: the source refused the job: Unauthorized: LDAP bind: Unauthorized (49): Invalid Credentials", res.QuarantineReason)
	s.Equal(1, fetches)

	_, fetches, err = run(temporal.NewApplicationError("GET /Users: InternalServerError (500): down", "InternalServerError"))
	s.Require().Error(err)
	s.Contains(err.Error(), "fetch from source")
	s.Equal(6, fetches, "retried")

	_, _, err = run(errors.New("the state store is locked"))
	s.Require().Error(err)
}
