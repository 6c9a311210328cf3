package activities

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/openprovisioning/provisioner/api"
	"github.com/openprovisioning/provisioner/connectors"
)

// Connector failures leave an activity as application errors typed by
// their kind, retried only when asking again may help; application errors
// leave unwrapped, so the SDK keeps their type; other errors are retried.
func TestFailuresAreClassified(t *testing.T) {
	for kind, retried := range map[connectors.Kind]bool{
		connectors.KindUnauthorized:        false,
		connectors.KindForbidden:           false,
		connectors.KindServiceIncompatible: false,
		connectors.KindInvalidRequest:      false,
		connectors.KindServerError:         true,
		connectors.KindTimeout:             true,
		connectors.KindUnavailable:         true,
		connectors.KindTooManyRequests:     true,
		connectors.KindNotFound:            true,
	} {
		err := fmt.Errorf("source https://hr.example: %w", &connectors.Error{Kind: kind, Op: "GET /Users", Status: 1, Detail: "no"})
		classify(&err)
		var ae *temporal.ApplicationError
		require.True(t, errors.As(err, &ae) && err == error(ae), "%s: %T", kind, err)
		require.Equal(t, string(kind), ae.Type())
		require.Equal(t, !retried, ae.NonRetryable(), kind)
		require.Contains(t, ae.Message(), "source https://hr.example: GET /Users")
		require.Equal(t, !retried && kind != connectors.KindInvalidRequest, Refused(err) != "", kind)
	}

	refused := temporal.NewNonRetryableApplicationError("bad configuration", api.ErrInvalidConfiguration, nil)
	err := fmt.Errorf("validate: %w", refused)
	classify(&err)
	require.Same(t, refused, err, "unwrapped")

	err = errors.New("the state store is locked")
	plain := err
	classify(&err)
	require.Equal(t, plain, err)
	require.Empty(t, Refused(err))

	err = nil
	classify(&err)
	require.NoError(t, err)
}
