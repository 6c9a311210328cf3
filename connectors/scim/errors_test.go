package scim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// A 403 refuses one call with accepted credentials (a protected account):
// it is InsufficientRights, the object's failure, not rejected credentials,
// and it is not retried.
func TestForbiddenIsInsufficientRights(t *testing.T) {
	protect := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"detail":"the account is protected"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{}, Config{}, protect)
	id, err := e.client.Create(ctx(t), connectors.User, connectors.Attributes{"userName": "admin"})
	require.NoError(t, err)
	e.rec.take("")
	err = e.client.SetActive(ctx(t), connectors.User, id, false)
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindForbidden, ce.Kind)
	assert.Equal(t, http.StatusForbidden, ce.Status)
	assert.Equal(t, "the account is protected", ce.Detail)
	assert.Len(t, e.rec.take(http.MethodPatch), 1)
}

// A 401 names the schemes asked for, not their parameters, which may quote
// what was sent.
func TestAuthSchemes(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Bearer realm="scim", error="invalid_token", error_description="token s3cr3t, sent at 10:00, expired"`)
	h.Add("WWW-Authenticate", `Basic realm="fallback, \"quoted\" too"`)
	require.Equal(t, " (WWW-Authenticate: Bearer, Basic)", authSchemes(h))
	require.Equal(t, " (no WWW-Authenticate header)", authSchemes(http.Header{}))
}
