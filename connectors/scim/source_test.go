package scim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable time for the sample application.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// readAll reads every page and returns the objects, the pages and the
// final watermark.
func readAll(t *testing.T, c *Client, typ connectors.ObjectType, since string, size int) ([]connectors.Object, int, string) {
	t.Helper()
	var (
		objects []connectors.Object
		pages   int
		cursor  string
	)
	for {
		page, err := c.Read(ctx(t), connectors.ReadRequest{Type: typ, Since: since, Cursor: cursor, PageSize: size})
		require.NoError(t, err)
		pages++
		objects = append(objects, page.Objects...)
		if page.Cursor == "" {
			return objects, pages, page.Watermark
		}
		assert.Empty(t, page.Watermark, "only the last page carries the watermark")
		cursor = page.Cursor
	}
}

func objectIDs(objects []connectors.Object) []string {
	var ids []string
	for _, o := range objects {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestSourcePagination(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	var want []string
	for i := range 25 {
		id, err := c.Create(x, connectors.User, connectors.Attributes{
			"userName": fmt.Sprintf("user%02d", i), "active": i != 3,
			workEmail: fmt.Sprintf("user%02d@example.com", i), department: "D",
		})
		require.NoError(t, err)
		want = append(want, id)
	}
	gid, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "All"})
	require.NoError(t, err)
	require.NoError(t, c.AddMembers(x, gid, want[:5]))

	users, pages, mark := readAll(t, c, connectors.User, "", 10)
	assert.Equal(t, 3, pages)
	assert.Equal(t, want, objectIDs(users))
	assert.NotEmpty(t, mark)
	u := users[3]
	assert.True(t, u.Disabled)
	assert.False(t, users[4].Disabled)
	assert.Equal(t, "/Users/"+u.ID, u.Locator)
	assert.Equal(t, "user03", u.Attributes["userName"])
	assert.Equal(t, "user03@example.com", u.Attributes[workEmail])
	assert.Equal(t, "D", u.Attributes[department])
	assert.Equal(t, false, u.Attributes["active"])

	groups, _, _ := readAll(t, c, connectors.Group, "", 0)
	require.Len(t, groups, 1)
	assert.Equal(t, want[:5], groups[0].Members)
	assert.Equal(t, "All", groups[0].Attributes["displayName"])

	_, err = c.Read(x, connectors.ReadRequest{Type: connectors.User, Cursor: "garbage"})
	assert.Equal(t, connectors.KindInvalidRequest, connectorError(t, err).Kind)
}

func TestSourceDeletionsDuringRead(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	var ids []string
	for i := range 25 {
		id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": fmt.Sprintf("u%02d", i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	first, err := c.Read(x, connectors.ReadRequest{Type: connectors.User, PageSize: 10})
	require.NoError(t, err)
	// Three users already read disappear before the next page.
	for _, id := range ids[:3] {
		require.NoError(t, c.Delete(x, connectors.User, id))
	}
	seen := objectIDs(first.Objects)
	for cursor := first.Cursor; cursor != ""; {
		page, err := c.Read(x, connectors.ReadRequest{Type: connectors.User, PageSize: 10, Cursor: cursor})
		require.NoError(t, err)
		seen = append(seen, objectIDs(page.Objects)...)
		cursor = page.Cursor
	}
	for _, id := range ids[3:] {
		assert.Contains(t, seen, id, "no remaining user is skipped")
	}

	var listed []string
	require.NoError(t, c.ListIDs(x, connectors.User, func(id string) error {
		listed = append(listed, id)
		return nil
	}))
	assert.Equal(t, ids[3:], listed)
}

func TestSourceDelta(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	e := setup(t, sampleapp.Options{Now: clk.Now}, Config{}, nil)
	c, x := e.client, ctx(t)
	assert.Equal(t, connectors.Delta, c.ChangeDetection())

	var ids []string
	for i := range 12 {
		id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": fmt.Sprintf("d%02d", i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	clk.advance(5 * time.Second)
	require.NoError(t, c.Update(x, connectors.User, ids[4], []connectors.Change{{Attribute: "title", New: "first"}}))

	all, _, mark := readAll(t, c, connectors.User, "", 5)
	assert.Len(t, all, 12)
	assert.Equal(t, "2026-05-01T08:00:05Z", mark, "the watermark is the highest lastModified")

	clk.advance(5 * time.Second)
	require.NoError(t, c.SetActive(x, connectors.User, ids[9], false))
	require.NoError(t, c.Update(x, connectors.User, ids[7], []connectors.Change{{Attribute: "title", New: "second"}}))

	e.rec.take("")
	changed, pages, mark2 := readAll(t, c, connectors.User, mark, 1)
	// ids[4] changed in the watermark's own second and comes again.
	assert.ElementsMatch(t, []string{ids[4], ids[7], ids[9]}, objectIDs(changed))
	assert.Equal(t, 3, pages)
	assert.Equal(t, "2026-05-01T08:00:10Z", mark2)
	assert.True(t, changed[slices.Index(objectIDs(changed), ids[9])].Disabled)
	assert.Equal(t, `meta.lastModified ge "2026-05-01T08:00:05Z"`, e.rec.take(http.MethodGet)[0].Query)

	nothing, _, mark3 := readAll(t, c, connectors.User, "2026-05-01T09:00:00Z", 0)
	assert.Empty(t, nothing)
	assert.Equal(t, "2026-05-01T09:00:00Z", mark3, "no change keeps the watermark")
}

func TestSourceSnapshotFallback(t *testing.T) {
	refuse := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Query().Get("filter"), "meta.") {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"scimType":"invalidFilter","detail":"unsupported"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{}, Config{}, refuse)
	c, x := e.client, ctx(t)
	_, err := c.Create(x, connectors.User, connectors.Attributes{"userName": "only"})
	require.NoError(t, err)
	assert.Equal(t, connectors.Snapshot, c.ChangeDetection())
	assert.Equal(t, connectors.Snapshot, c.ChangeDetection())
	e.rec.take("")
	objects, _, _ := readAll(t, c, connectors.User, "2026-01-01T00:00:00Z", 0)
	assert.Len(t, objects, 1, "a snapshot source reads everything")
	assert.Len(t, e.rec.take(http.MethodGet), 1, "the probe ran once")

	pinned := setup(t, sampleapp.Options{}, Config{ChangeDetection: ChangeDetectionSnapshot}, nil)
	assert.Equal(t, connectors.Snapshot, pinned.client.ChangeDetection())
	assert.Empty(t, pinned.rec.take(""), "a pinned setting sends no probe")
}

func TestWriteback(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	c, x := e.client, ctx(t)
	id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": "hire"})
	require.NoError(t, err)

	require.NoError(t, c.Write(x, connectors.User, id, connectors.Attributes{workEmail: "hire@example.com", "userName": "hire"}))
	u := userByName(t, e.app, "hire")
	assert.Equal(t, []any{map[string]any{"type": "work", "value": "hire@example.com"}}, u.Attributes["emails"])

	require.NoError(t, c.Write(x, connectors.User, id, connectors.Attributes{workEmail: "new.hire@example.com"}))
	u = userByName(t, e.app, "hire")
	assert.Equal(t, []any{map[string]any{"type": "work", "value": "new.hire@example.com"}}, u.Attributes["emails"])

	e.rec.take("")
	require.NoError(t, c.Write(x, connectors.User, id, connectors.Attributes{workEmail: "new.hire@example.com"}))
	assert.Empty(t, e.rec.take(http.MethodPatch), "an unchanged value is not written")
}
