package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/connectors"
)

// classify decides, once for every activity, what Temporal does with the
// error it returns: each activity defers it. A connector failure becomes an
// application error whose type is its kind (the error code of the
// provisioning log), retried unless asking again cannot help. An application
// error is returned unwrapped: the SDK converts only the error itself, so a
// wrapped one would arrive as a generic, retryable error.
func classify(err *error) {
	*err = failure(*err)
}

// failure is the error an activity returns for err.
func failure(err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae
	}
	k := connectors.KindOf(err)
	if k == "" {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), string(k), temporal.ApplicationErrorOptions{NonRetryable: !retryable(k)})
}

// retryable reports whether a call that failed this way may succeed when
// made again: not when the system refused the job's credentials or rights,
// does not speak the protocol, or refused the request itself.
func retryable(k connectors.Kind) bool {
	return !refusal(k) && k != connectors.KindInvalidRequest
}

// refusal reports whether a failure is the system refusing the job, not one
// object: an activity that fails this way quarantines the job.
func refusal(k connectors.Kind) bool {
	switch k {
	case connectors.KindUnauthorized, connectors.KindForbidden, connectors.KindServiceIncompatible:
		return true
	}
	return false
}

// Refused returns, for the error of an activity as a workflow receives it,
// why the system it called refused the job (its error code and message), or
// "" when the failure is of another kind. Workflows quarantine the job for
// it: retrying cannot help until an operator acts.
func Refused(err error) string {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !refusal(connectors.Kind(ae.Type())) {
		return ""
	}
	return ae.Type() + ": " + ae.Message()
}
