package sampleapp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStats(t *testing.T) {
	s := start(t, Options{})
	id := s.createUser(user("counted"))
	gid := s.createGroup("Counted")
	s.get("/Users/" + id)
	s.list("/Users", `userName eq "counted"`)
	status, _ := s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}})
	require.Equal(t, http.StatusNoContent, status)
	s.patch("/Groups/"+gid, map[string]any{"op": "add", "path": "members", "value": []any{
		map[string]any{"value": id}, map[string]any{"value": strings.Repeat("x", 100)},
	}})

	st := s.app.Stats()
	assert.Equal(t, 1, st.Requests["POST /Users"])
	assert.Equal(t, 1, st.Requests["POST /Groups"])
	assert.Equal(t, 2, st.Requests["GET /Users"])
	assert.Equal(t, 2, st.Requests["PATCH /Groups"])
	assert.Equal(t, 2, st.Statuses[http.StatusCreated])
	assert.Greater(t, st.MaxPatchBytes, 150)
	assert.Equal(t, 1, st.Users)
	assert.Equal(t, 1, st.Groups)

	s.app.ResetStats()
	st = s.app.Stats()
	assert.Empty(t, st.Requests)
	assert.Zero(t, st.MaxPatchBytes)
	assert.Equal(t, 1, st.Users, "resetting counters keeps the store")
}

func TestFaultInjection(t *testing.T) {
	run := func() (faults int, statuses map[int]int, retryAfter string) {
		s := start(t, Options{FaultRate: 0.3, FaultSeed: 7, RetryAfter: 1500 * 1e6})
		for range 200 {
			req, err := http.NewRequest(http.MethodGet, s.url+"/scim/v2/Users", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				retryAfter = resp.Header.Get("Retry-After")
			}
		}
		st := s.app.Stats()
		return st.Faults, st.Statuses, retryAfter
	}
	faults, statuses, retryAfter := run()
	assert.InDelta(t, 60, faults, 25)
	assert.Equal(t, faults, statuses[http.StatusServiceUnavailable]+statuses[http.StatusTooManyRequests])
	assert.Positive(t, statuses[http.StatusServiceUnavailable])
	assert.Positive(t, statuses[http.StatusTooManyRequests])
	assert.Equal(t, "2", retryAfter, "Retry-After is rounded up to whole seconds")

	again, _, _ := run()
	assert.Equal(t, faults, again, "the same seed gives the same faults")
}
