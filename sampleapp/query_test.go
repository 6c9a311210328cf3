package sampleapp

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilters(t *testing.T) {
	s := start(t, Options{})
	quoted := s.createUser(map[string]any{"userName": `say "hi" \ bye`, "externalId": "Ext-1", "title": "Boss"})
	plain := s.createUser(map[string]any{"userName": "plain", "externalId": "ext-1", "title": "Clerk",
		"emails":         []any{map[string]any{"type": "work", "value": "plain@example.com"}},
		EnterpriseSchema: map[string]any{"department": "Sales"}})
	group := s.createGroup("Admins")

	cases := []struct {
		endpoint, filter string
		want             []string
	}{
		{"/Users", `userName eq "PLAIN"`, []string{plain}}, // userName is not case-exact
		{"/Users", `userName eq "say \"hi\" \\ bye"`, []string{quoted}},
		{"/Users", `externalId eq "ext-1"`, []string{plain}}, // externalId is case-exact
		{"/Users", `id eq "` + quoted + `"`, []string{quoted}},
		{"/Users", `userName eq "nobody"`, nil},
		{"/Users", `externalId eq "Ext-1" and title eq "Boss"`, []string{quoted}},
		{"/Users", `externalId eq "Ext-1" and title eq "Clerk"`, nil},
		{"/Users", `title eq "Clerk" or title eq "Boss"`, []string{quoted, plain}},
		{"/Users", `emails[type eq "work" and value eq "plain@example.com"]`, []string{plain}},
		{"/Users", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`, []string{plain}},
		{"/Groups", `displayName eq "admins"`, []string{group}},
	}
	for _, c := range cases {
		status, body := s.list(c.endpoint, c.filter)
		require.Equal(t, http.StatusOK, status, "%s: %v", c.filter, body)
		assert.Contains(t, body["schemas"], "urn:ietf:params:scim:api:messages:2.0:ListResponse")
		assert.EqualValues(t, len(c.want), body["totalResults"], c.filter)
		assert.Equal(t, c.want, ids(body), c.filter)
	}

	status, body := s.list("/Users", `userName eq`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalidFilter", body["scimType"])
}

func TestFilterLastModified(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
	s := start(t, Options{Now: clock})
	old := s.createUser(user("old"))
	advance(1500 * time.Millisecond)
	fresh := s.createUser(user("fresh"))
	advance(2 * time.Second)
	s.patch("/Users/"+old, map[string]any{"op": "replace", "path": "title", "value": "changed"})

	// Times are compared at the second resolution clients see.
	for filter, want := range map[string][]string{
		`meta.lastModified gt "2026-03-01T10:00:00Z"`:                         {old, fresh},
		`meta.lastModified gt "2026-03-01T10:00:01Z"`:                         {old},
		`meta.lastModified ge "2026-03-01T10:00:01Z"`:                         {old, fresh},
		`meta.lastModified lt "2026-03-01T10:00:02Z"`:                         {fresh},
		`meta.created eq "2026-03-01T10:00:00Z"`:                              {old},
		`meta.lastModified gt "2026-03-01T10:00:00Z" and userName eq "fresh"`: {fresh},
	} {
		status, body := s.list("/Users", filter)
		require.Equal(t, http.StatusOK, status, "%s: %v", filter, body)
		assert.Equal(t, want, ids(body), filter)
	}
}

func TestPagination(t *testing.T) {
	s := start(t, Options{MaxResults: 10})
	var all []string
	for i := range 25 {
		all = append(all, s.createUser(user(fmt.Sprintf("user%02d", i))))
	}

	var seen []string
	for start := 1; ; {
		status, body := s.list("/Users", "", "startIndex", fmt.Sprint(start), "count", "7")
		require.Equal(t, http.StatusOK, status)
		assert.EqualValues(t, 25, body["totalResults"])
		assert.EqualValues(t, start, body["startIndex"])
		page := ids(body)
		if len(page) == 0 {
			break
		}
		assert.LessOrEqual(t, len(page), 7)
		seen = append(seen, page...)
		start += len(page)
	}
	assert.Equal(t, all, seen, "pages cover every user once, in a stable order")

	_, body := s.list("/Users", "")
	assert.Len(t, ids(body), 10, "count defaults to and is capped by MaxResults")
	_, body = s.list("/Users", "", "count", "0")
	assert.Empty(t, ids(body))
	assert.EqualValues(t, 25, body["totalResults"])
	_, body = s.list("/Users", "", "startIndex", "30")
	assert.Empty(t, ids(body))

	_, body = s.list("/Users", `userName ne "user00"`, "startIndex", "20", "count", "10")
	assert.EqualValues(t, 24, body["totalResults"])
	assert.Equal(t, all[20:], ids(body))
}
