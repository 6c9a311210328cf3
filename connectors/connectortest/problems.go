package connectortest

import (
	"errors"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// Problems returns the problems in err, a configuration's Validate result,
// and fails the test for any that is not a connectors.FieldError: a job
// reports such an error at the connection as a whole, its field lost.
func Problems(t testing.TB, err error) []connectors.FieldError {
	t.Helper()
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var ps []connectors.FieldError
		for _, e := range joined.Unwrap() {
			ps = append(ps, Problems(t, e)...)
		}
		return ps
	}
	var fe connectors.FieldError
	if err == nil {
		return nil
	}
	if !errors.As(err, &fe) {
		t.Errorf("problem %q is a %T, not a connectors.FieldError naming its field", err, err)
		return nil
	}
	return []connectors.FieldError{fe}
}
