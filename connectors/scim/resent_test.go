package scim

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/lostanswer"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// A create sent again after its answer was lost conflicts with the object
// it made: the conflict says so, and a plain one does not.
func TestConflictAfterLostAnswerIsResent(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, func(next http.Handler) http.Handler {
		return lostanswer.New(next, lostanswer.POSTs(1))
	})
	_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "ada@example.com"})
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindConflict, ce.Kind)
	assert.True(t, ce.Resent)
	assert.True(t, connectors.Resent(err))
	assert.Contains(t, ce.Detail, "sent again after an earlier try got no answer")
	require.Len(t, e.app.Users(), 1)

	_, err = e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "ada@example.com"})
	ce = connectorError(t, err)
	assert.Equal(t, connectors.KindConflict, ce.Kind)
	assert.False(t, ce.Resent, "no try of this call went unanswered")
}

// A try refused before the service acted (a 503) leaves nothing in
// doubt: the conflict that follows is a plain one.
func TestRefusedTryIsNotInDoubt(t *testing.T) {
	var refuse atomic.Bool
	e := setup(t, sampleapp.Options{}, Config{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && refuse.CompareAndSwap(true, false) {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	_, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "bob@example.com"})
	require.NoError(t, err)
	refuse.Store(true)
	_, err = e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "bob@example.com"})
	assert.Equal(t, connectors.KindConflict, connectorError(t, err).Kind)
	assert.False(t, refuse.Load(), "the first try was refused")
	assert.False(t, connectors.Resent(err))
}
