package scim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	t.Setenv("SCIM_SET", "value")
	t.Setenv("SCIM_UNSET", "")
	for _, c := range []struct {
		cfg  Config
		want []string
	}{
		{Config{}, []string{"baseURL: required", "token: set exactly one of token, basic, oauth"}},
		{Config{BaseURL: "ftp://x", Token: secrets.Ref{Env: "SCIM_UNSET"}}, []string{
			`baseURL: "ftp://x" is not an http or https URL`,
			"token: environment variable SCIM_UNSET is not set",
		}},
		{Config{BaseURL: "https://u:p@x.example", Token: secrets.Ref{Env: "SCIM_SET"}, Dialect: "okta", MaxConcurrency: -1}, []string{
			"baseURL: must not hold credentials; use token, basic or oauth",
			`dialect: "okta" is not rfc or azure`,
			"maxConcurrency: must not be negative",
		}},
		{Config{BaseURL: "https://x.example", Token: secrets.Ref{Env: "SCIM_SET"}, Basic: &BasicAuth{}}, []string{
			"basic.username: required",
			"basic.password: name an env or a file",
			"token: set exactly one of token, basic, oauth",
		}},
		{Config{BaseURL: "https://x.example", OAuth: &OAuthClientCredentials{ClientSecret: secrets.Ref{Env: "SCIM_SET"}}}, []string{
			"oauth.tokenURL: required: an http or https URL",
			"oauth.clientID: required",
		}},
		{Config{BaseURL: "https://x.example/scim/v2/?aadOptscim062020", Token: secrets.Ref{Env: "SCIM_SET"}}, []string{
			"baseURL: must not have a query or fragment; set dialect to choose Azure-style requests",
		}},
		{Config{BaseURL: "https://x.example/scim/v2", Token: secrets.Ref{Env: "SCIM_SET"}, Dialect: "Azure"}, nil},
	} {
		err := c.cfg.Validate()
		if c.want == nil {
			assert.NoError(t, err)
			continue
		}
		require.Error(t, err)
		connectortest.Problems(t, err)
		assert.Equal(t, c.want, strings.Split(err.Error(), "\n"))
	}
}

func TestConfigYAMLAndJSON(t *testing.T) {
	src := `
baseURL: https://app.example.com/scim/v2
token: {env: APP_TOKEN}
dialect: azure
timeout: 15s
maxConcurrency: 16
requestsPerSecond: 50
memberBatchSize: 50
`
	var cfg Config
	require.NoError(t, yaml.Unmarshal([]byte(src), &cfg))
	assert.Equal(t, Duration(15*time.Second), cfg.Timeout)
	assert.Equal(t, "APP_TOKEN", cfg.Token.Env)
	assert.Equal(t, 16, cfg.MaxConcurrency)

	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(out), "timeout: 15s")

	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"timeout":"15s"`)
	assert.NotContains(t, string(raw), "basic")
	// A reference decoded from JSON is marked as a job's (secrets.Ref), so
	// the round trip is compared as it is written.
	var back Config
	require.NoError(t, json.Unmarshal(raw, &back))
	again, err := json.Marshal(back)
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(again))

	assert.Error(t, yaml.Unmarshal([]byte("timeout: soon"), &cfg))
}

func TestTestConnectionAndDiscover(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	require.NoError(t, e.client.TestConnection(ctx(t)))
	get := e.rec.take(http.MethodGet)
	require.Len(t, get, 1)
	assert.Regexp(t, `^userName eq "[0-9a-f-]{36}"$`, get[0].Query)

	sp, err := e.client.Discover(ctx(t))
	require.NoError(t, err)
	assert.True(t, sp.Patch)
	assert.True(t, sp.Filter)
	assert.False(t, sp.Bulk)
	assert.Equal(t, 1000, sp.MaxResults)
	assert.Equal(t, []string{"oauthbearertoken"}, sp.AuthenticationSchemes)
	var user *Schema
	for i := range sp.Schemas {
		if sp.Schemas[i].ID == UserSchema {
			user = &sp.Schemas[i]
		}
	}
	require.NotNil(t, user)
	var emails *Attribute
	for i := range user.Attributes {
		if user.Attributes[i].Name == "emails" {
			emails = &user.Attributes[i]
		}
	}
	require.NotNil(t, emails)
	assert.True(t, emails.MultiValued)
	assert.NotEmpty(t, emails.SubAttributes)

	bad := setup(t, sampleapp.Options{Token: "other"}, Config{}, nil)
	err = bad.client.TestConnection(ctx(t))
	assert.Equal(t, connectors.KindUnauthorized, connectorError(t, err).Kind)
}

func TestBasicAuth(t *testing.T) {
	t.Setenv("SCIM_TEST_PASSWORD", "basic-secret")
	checking := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if user, pass, ok := r.BasicAuth(); !ok || user != "svc" || pass != "basic-secret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			r.Header.Set("Authorization", "Bearer "+testToken) // what the sample application checks
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{}, Config{Basic: &BasicAuth{Username: "svc", Password: secrets.Ref{Env: "SCIM_TEST_PASSWORD"}}}, checking)
	require.NoError(t, e.client.TestConnection(ctx(t)))
}

func TestOAuthClientCredentials(t *testing.T) {
	var issued atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		id, secret, _ := r.BasicAuth()
		if id == "" {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Form.Get("grant_type") != "client_credentials" || id != "provisioner" || secret != "client-secret-value" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		issued.Add(1)
		assert.Equal(t, "scim.write", r.Form.Get("scope"))
		_, _ = w.Write([]byte(`{"access_token":"` + testToken + `","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(tokens.Close)

	t.Setenv("SCIM_CLIENT_SECRET", "client-secret-value")
	oauth := &OAuthClientCredentials{TokenURL: tokens.URL, ClientID: "provisioner", ClientSecret: secrets.Ref{Env: "SCIM_CLIENT_SECRET"}, Scopes: []string{"scim.write"}}
	e := setup(t, sampleapp.Options{}, Config{OAuth: oauth}, nil)
	for range 3 {
		require.NoError(t, e.client.TestConnection(ctx(t)))
	}
	assert.Equal(t, int32(1), issued.Load(), "the token is reused until it expires")

	t.Setenv("SCIM_CLIENT_SECRET", "wrong-secret")
	e = setup(t, sampleapp.Options{}, Config{OAuth: oauth}, nil)
	err := e.client.TestConnection(ctx(t))
	ce := connectorError(t, err)
	assert.Equal(t, connectors.KindUnauthorized, ce.Kind)
	assert.NotContains(t, err.Error(), "wrong-secret")
	assert.Empty(t, e.rec.take(""), "no SCIM request without a token")
	assert.Equal(t, int32(1), issued.Load())
}
