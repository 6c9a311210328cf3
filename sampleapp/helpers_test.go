package sampleapp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

const testToken = "test-token"

// server is an App behind a real HTTP listener with a client that sends the token.
type server struct {
	t   *testing.T
	app *App
	url string
}

func start(t *testing.T, opts Options) *server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	app := New(opts)
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(ts.Close)
	return &server{t: t, app: app, url: ts.URL}
}

// do sends a SCIM request and decodes the JSON answer, if any.
func (s *server) do(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	return s.doWithToken(testToken, method, path, body)
}

func (s *server) doWithToken(token, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+"/scim/v2"+path, rd)
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(s.t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

// createUser posts a user and returns its id.
func (s *server) createUser(user map[string]any) string {
	s.t.Helper()
	if _, ok := user["schemas"]; !ok {
		user["schemas"] = []string{UserSchema, EnterpriseSchema}
	}
	status, body := s.do(http.MethodPost, "/Users", user)
	require.Equal(s.t, http.StatusCreated, status, body)
	return body["id"].(string)
}

func (s *server) createGroup(name string) string {
	s.t.Helper()
	status, body := s.do(http.MethodPost, "/Groups", map[string]any{
		"schemas":     []string{GroupSchema},
		"displayName": name,
	})
	require.Equal(s.t, http.StatusCreated, status, body)
	return body["id"].(string)
}

// patch sends a PatchOp with the given operations.
func (s *server) patch(path string, ops ...map[string]any) (int, map[string]any) {
	s.t.Helper()
	return s.do(http.MethodPatch, path, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": ops,
	})
}

// list queries a resource endpoint with a filter and paging parameters.
func (s *server) list(endpoint, filter string, params ...string) (int, map[string]any) {
	s.t.Helper()
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return s.do(http.MethodGet, endpoint+"?"+q.Encode(), nil)
}

// ids returns the ids of a ListResponse's resources.
func ids(list map[string]any) []string {
	var out []string
	resources, _ := list["Resources"].([]any)
	for _, r := range resources {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

func user(userName string) map[string]any {
	return map[string]any{"userName": userName, "active": true}
}

// get fetches one resource and fails the test unless it exists.
func (s *server) get(path string) map[string]any {
	s.t.Helper()
	status, body := s.do(http.MethodGet, path, nil)
	require.Equal(s.t, http.StatusOK, status, body)
	return body
}
