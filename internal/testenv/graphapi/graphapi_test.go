package graphapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Documented shapes, after the examples of Microsoft's pages "user: delta",
// "group: delta" and "Get access without a user" (values are ours).
const (
	documentedUserDeltaPage = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(displayName,givenName,surname)",
  "@odata.nextLink": "https://graph.microsoft.com/v1.0/users/delta?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjsXoYQp_dpA3cNJWc",
  "value": [
    {"displayName": "Ada Lovelace", "givenName": "Ada", "surname": "Lovelace", "id": "ffff-1"}
  ]
}`
	documentedUserDeltaLast = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(displayName,givenName,surname)",
  "@odata.deltaLink": "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=oEBwdSP6uehIAxQOWq_3Ksh_TLol6KIm3stvdc6hGhZRi1hQ7Spe__dpvm3U4zReE4CYXC2zOtaKdi7KHlUtC2CbRiBIUwOxPKLa",
  "value": [
    {"@odata.type": "#microsoft.graph.user", "id": "ffff-2", "@removed": {"reason": "changed"}}
  ]
}`
	documentedGroupDelta = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
  "@odata.deltaLink": "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=sZwAFZibx-LQOdZIo1hHhmmDhHzCY0Hs6snoIHJCSIfCHdqKdWNZ2VX3kErpyna9GygROwBk-rqWWMFxJ-3",
  "value": [
    {"displayName": "Sales", "description": "Sales team", "id": "ffff-3",
     "members@delta": [
       {"@odata.type": "#microsoft.graph.user", "id": "ffff-1"},
       {"@odata.type": "#microsoft.graph.user", "id": "ffff-2", "@removed": {"reason": "deleted"}}
     ]}
  ]
}`
	documentedToken      = `{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP..."}`
	documentedTokenError = `{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x\r\nCorrelation ID: y\r\nTimestamp: 2026-01-01 00:00:00Z",
  "error_codes": [7000215], "timestamp": "2026-01-01 00:00:00Z", "trace_id": "x", "correlation_id": "y"}`
	documentedGraphError = `{"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist.", "innerError": {"date": "2026-01-01T00:00:00", "request-id": "x", "client-request-id": "y"}}}`
)

// shape reduces a JSON document to its keys and kinds; lists to the
// shapes of their elements merged.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		merged := map[string]any{}
		for _, e := range x {
			if m, ok := shape(e).(map[string]any); ok {
				for k, s := range m {
					merged[k] = s
				}
			} else {
				return []any{shape(e)}
			}
		}
		return []any{merged}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

func requireShape(t *testing.T, documented string, got []byte) {
	t.Helper()
	var want, have any
	require.NoError(t, json.Unmarshal([]byte(documented), &want))
	require.NoError(t, json.Unmarshal(got, &have), string(got))
	require.Equal(t, shape(want), shape(have), "answer %s", got)
}

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start("contoso.onmicrosoft.com")
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func post(t *testing.T, s *Server, form url.Values) (int, []byte) {
	t.Helper()
	resp, err := s.Client.PostForm(s.URL+"/"+s.Tenant+"/oauth2/v2.0/token", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (s *Server) tokenFor(t *testing.T) string {
	t.Helper()
	status, b := post(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_secret": {s.Secret}, "scope": {"https://graph.microsoft.com/.default"}})
	require.Equal(t, http.StatusOK, status, string(b))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(b, &tok))
	return tok.AccessToken
}

func get(t *testing.T, s *Server, tok, link string, pageSize int) (int, []byte) {
	t.Helper()
	if strings.HasPrefix(link, "/") {
		link = s.GraphURL + link
	}
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if pageSize > 0 {
		req.Header.Set("Prefer", "odata.maxpagesize="+itoaTest(pageSize))
	}
	resp, err := s.Client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func itoaTest(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestTokenShapes(t *testing.T) {
	s := start(t)
	status, b := post(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_secret": {s.Secret}, "scope": {"https://graph.microsoft.com/.default"}})
	require.Equal(t, http.StatusOK, status)
	requireShape(t, documentedToken, b)
	status, b = post(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_secret": {"wrong"}, "scope": {"https://graph.microsoft.com/.default"}})
	require.Equal(t, http.StatusUnauthorized, status)
	requireShape(t, documentedTokenError, b)
	status, _ = post(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_secret": {s.Secret}, "scope": {"User.Read.All"}})
	require.Equal(t, http.StatusBadRequest, status, "client credentials need a /.default scope")
	status, _ = post(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"e30.e30.x"}, "scope": {"https://graph.microsoft.com/.default"}})
	require.Equal(t, http.StatusUnauthorized, status, "an unsigned assertion")
}

func TestDeltaShapes(t *testing.T) {
	s := start(t)
	tok := s.tokenFor(t)
	ada := s.AddUser(User{"displayName": "Ada Lovelace", "givenName": "Ada", "surname": "Lovelace"})
	bob := s.AddUser(User{"displayName": "Bob", "givenName": "Bob", "surname": "B"})
	sales := s.AddGroup("Sales", ada)
	s.UpdateUser(ada, User{"description": nil})

	status, b := get(t, s, tok, "/users/delta?$select=displayName,givenName,surname", 1)
	require.Equal(t, http.StatusOK, status, string(b))
	requireShape(t, documentedUserDeltaPage, b)
	var page struct {
		Next  string `json:"@odata.nextLink"`
		Delta string `json:"@odata.deltaLink"`
	}
	require.NoError(t, json.Unmarshal(b, &page))
	_, b = get(t, s, tok, page.Next, 1)
	require.NoError(t, json.Unmarshal(b, &page))
	require.NotEmpty(t, page.Delta, "two users, pages of one: the second page is the last")

	s.DeleteUser(bob, true)
	_, b = get(t, s, tok, page.Delta, 0)
	requireShape(t, documentedUserDeltaLast, b)

	_, b = get(t, s, tok, "/groups/delta?$select=displayName,description,members", 0)
	require.NoError(t, json.Unmarshal(b, &page))
	s.AddMember(sales, bob)
	s.RemoveMember(sales, bob)
	s.UpdateGroup(sales, map[string]any{"description": "Sales team"})
	s.AddMember(sales, bob)
	s.RemoveMember(sales, ada)
	status, b = get(t, s, tok, page.Delta, 0)
	require.Equal(t, http.StatusOK, status, string(b))
	requireShape(t, documentedGroupDelta, b)

	status, b = get(t, s, tok, "/users/"+NewID(), 0)
	require.Equal(t, http.StatusNotFound, status)
	requireShape(t, documentedGraphError, b)

	s.ExpireDeltaTokens()
	status, _ = get(t, s, tok, page.Delta, 0)
	require.Equal(t, http.StatusGone, status)
	status, b = get(t, s, tok, "/users/delta?$select=jobTitel", 0)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(b), "jobTitel")
}

func TestThrottle(t *testing.T) {
	s := start(t)
	tok := s.tokenFor(t)
	s.Throttle(1, 7)
	req, _ := http.NewRequest(http.MethodGet, s.GraphURL+"/users/delta", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "7", resp.Header.Get("Retry-After"))
	status, _ := get(t, s, tok, "/users/delta", 0)
	require.Equal(t, http.StatusOK, status)
	status, _ = get(t, s, "not-a-token", "/users/delta", 0)
	require.Equal(t, http.StatusUnauthorized, status)
}
