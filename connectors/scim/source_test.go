package scim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/scimfault"
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
	c.now = clk.Now
	assert.Equal(t, connectors.Delta, c.ChangeDetection())

	var ids []string
	for i := range 12 {
		id, err := c.Create(x, connectors.User, connectors.Attributes{"userName": fmt.Sprintf("d%02d", i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	clk.advance(5 * time.Second)
	require.NoError(t, c.Update(x, connectors.User, ids[4], []connectors.Change{{Attribute: "title", New: "first"}}))

	// Reads begin long after the changes: the watermark's cap does not bite.
	clk.advance(10 * time.Minute)
	all, _, mark := readAll(t, c, connectors.User, "", 5)
	assert.Len(t, all, 12)
	assert.Equal(t, "2026-05-01T08:00:05Z", mark, "the watermark is the highest lastModified")

	clk.advance(5 * time.Second)
	require.NoError(t, c.SetActive(x, connectors.User, ids[9], false))
	require.NoError(t, c.Update(x, connectors.User, ids[7], []connectors.Change{{Attribute: "title", New: "second"}}))
	clk.advance(10 * time.Minute)

	e.rec.take("")
	changed, pages, mark2 := readAll(t, c, connectors.User, mark, 1)
	// ids[4] changed in the watermark's own second and comes again.
	assert.ElementsMatch(t, []string{ids[4], ids[7], ids[9]}, objectIDs(changed))
	assert.Equal(t, 3, pages)
	assert.Equal(t, "2026-05-01T08:10:10Z", mark2)
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
	assert.Len(t, e.rec.take(http.MethodGet), 2, "the page and the empty page that ends the read: the probe ran once")

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

// faulty sets up a sample application behind a scimfault proxy set to f.
func faulty(t *testing.T, opts sampleapp.Options, f scimfault.Fault) (*env, *scimfault.Proxy) {
	t.Helper()
	var p *scimfault.Proxy
	e := setup(t, opts, Config{}, func(h http.Handler) http.Handler {
		p = scimfault.New(h)
		p.Set(f)
		return p
	})
	return e, p
}

// users creates n users and returns their ids in the service's order.
func users(t *testing.T, c *Client, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id, err := c.Create(ctx(t), connectors.User, connectors.Attributes{"userName": fmt.Sprintf("u%02d@example.com", i)})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

// readErr reads every page until one fails, and returns that failure.
func readErr(t *testing.T, c *Client, typ connectors.ObjectType, size int) error {
	t.Helper()
	for cursor := ""; ; {
		page, err := c.Read(ctx(t), connectors.ReadRequest{Type: typ, Cursor: cursor, PageSize: size})
		if err != nil {
			return err
		}
		if cursor = page.Cursor; cursor == "" {
			return nil
		}
	}
}

func listIDs(c *Client, typ connectors.ObjectType) ([]string, error) {
	var ids []string
	err := c.ListIDs(context.Background(), typ, func(id string) error {
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// readsAll checks that reading the users and listing their IDs both
// return want, in order.
func readsAll(t *testing.T, c *Client, want []string, size int) {
	t.Helper()
	got, _, _ := readAll(t, c, connectors.User, "", size)
	assert.Equal(t, want, objectIDs(got))
	ids, err := listIDs(c, connectors.User)
	require.NoError(t, err)
	assert.Equal(t, want, ids)
}

// A service that answers every page with the first one fails the read and
// the listing of IDs: taking what they returned for every user would
// delete the others.
func TestSourceRefusesIgnoredStartIndex(t *testing.T) {
	e, p := faulty(t, sampleapp.Options{MaxResults: 3}, scimfault.IgnoreStartIndex)
	users(t, e.client, 8)

	ce := connectorError(t, readErr(t, e.client, connectors.User, 3))
	assert.Equal(t, connectors.KindServiceIncompatible, ce.Kind)
	assert.Contains(t, ce.Error(), "GET /Users")
	assert.Contains(t, ce.Detail, "does not page by startIndex")
	_, err := listIDs(e.client, connectors.User)
	assert.Equal(t, connectors.KindServiceIncompatible, connectorError(t, err).Kind)
	assert.Positive(t, p.Faulted())

	// When everything fits in the first page, ignoring startIndex loses nothing.
	small, _ := faulty(t, sampleapp.Options{}, scimfault.IgnoreStartIndex)
	readsAll(t, small.client, users(t, small.client, 3), 10)
}

// A service that loses users between pages (totalResults counts them, no
// page holds them) fails the read with a kind that is retried.
func TestSourceRefusesUsersLostBetweenPages(t *testing.T) {
	e, _ := faulty(t, sampleapp.Options{MaxResults: 3}, scimfault.DropBetweenPages)
	users(t, e.client, 8)

	ce := connectorError(t, readErr(t, e.client, connectors.User, 3))
	assert.Equal(t, connectors.KindServerError, ce.Kind)
	assert.Contains(t, ce.Detail, "7 distinct resources where the service counts 8")
	_, err := listIDs(e.client, connectors.User)
	assert.Equal(t, connectors.KindServerError, connectorError(t, err).Kind)
}

// A totalResults lower than what the service holds does not end the read:
// it goes on until a page comes back empty.
func TestSourceReadsPastLowTotal(t *testing.T) {
	e, p := faulty(t, sampleapp.Options{MaxResults: 3}, scimfault.LowTotal)
	readsAll(t, e.client, users(t, e.client, 8), 3)
	assert.Positive(t, p.Faulted())
}

// A group listed without members is read in full; one that has none is
// read as empty.
func TestSourceReadsGroupsListedWithoutMembers(t *testing.T) {
	e, p := faulty(t, sampleapp.Options{}, scimfault.NoMembers)
	c, x := e.client, ctx(t)
	ids := users(t, c, 3)
	staff, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "Staff"})
	require.NoError(t, err)
	require.NoError(t, c.AddMembers(x, staff, ids[:2]))
	empty, err := c.Create(x, connectors.Group, connectors.Attributes{"displayName": "Empty"})
	require.NoError(t, err)

	e.rec.take("")
	groups, _, _ := readAll(t, c, connectors.Group, "", 10)
	require.Equal(t, []string{staff, empty}, objectIDs(groups))
	assert.Equal(t, ids[:2], groups[0].Members)
	assert.Equal(t, "Staff", groups[0].Attributes["displayName"])
	assert.Empty(t, groups[1].Members)
	var gets []string
	for _, r := range e.rec.take(http.MethodGet) {
		gets = append(gets, r.Path)
	}
	assert.Subset(t, gets, []string{"/scim/v2/Groups/" + staff, "/scim/v2/Groups/" + empty})
	assert.Positive(t, p.Faulted())
}

// The watermark is capped at the read's start less the clock skew: a user
// deactivated during a long read, after the read passed it, while a user
// read later changed after it, is read by the next delta.
func TestSourceWatermarkCappedAtReadStart(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	e := setup(t, sampleapp.Options{Now: clk.Now}, Config{}, nil)
	c, x := e.client, ctx(t)
	c.now = clk.Now
	ids := users(t, c, 6)
	clk.advance(10 * time.Minute)
	since := "2026-05-01T08:00:00Z"

	first, err := c.Read(x, connectors.ReadRequest{Type: connectors.User, Since: since, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, ids[:2], objectIDs(first.Objects))
	clk.advance(time.Second)
	require.NoError(t, c.SetActive(x, connectors.User, ids[0], false))
	clk.advance(time.Second)
	require.NoError(t, c.Update(x, connectors.User, ids[5], []connectors.Change{{Attribute: "title", New: "later"}}))
	var mark string
	for cursor := first.Cursor; cursor != ""; {
		page, err := c.Read(x, connectors.ReadRequest{Type: connectors.User, Since: since, PageSize: 2, Cursor: cursor})
		require.NoError(t, err)
		cursor, mark = page.Cursor, page.Watermark
	}
	assert.Equal(t, "2026-05-01T08:05:00Z", mark, "the read began at 08:10:00")

	next, _, _ := readAll(t, c, connectors.User, mark, 10)
	i := slices.Index(objectIDs(next), ids[0])
	require.GreaterOrEqual(t, i, 0, "the deactivation is read")
	assert.True(t, next[i].Disabled)
}

// A page asked for again, by a retry in this process or by another
// process, lists again from the start: what was returned comes again,
// nothing is skipped. A page that failed is asked for again where it was.
func TestSourceReadResumes(t *testing.T) {
	failOnce := func(next http.Handler) http.Handler {
		var failed atomic.Bool
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("startIndex") == "5" && !failed.Swap(true) {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	e := setup(t, sampleapp.Options{}, Config{}, failOnce)
	c, x := e.client, ctx(t)
	ids := users(t, c, 10)
	read := func(c *Client, cursor string) connectors.Page {
		t.Helper()
		page, err := c.Read(x, connectors.ReadRequest{Type: connectors.User, PageSize: 4, Cursor: cursor})
		require.NoError(t, err)
		return page
	}

	p1 := read(c, "")
	_, err := c.Read(x, connectors.ReadRequest{Type: connectors.User, PageSize: 4, Cursor: p1.Cursor})
	require.Error(t, err)
	p2 := read(c, p1.Cursor)
	assert.Equal(t, ids[4:8], objectIDs(p2.Objects), "the failed page is read where it was")

	again := read(c, p1.Cursor)
	assert.Equal(t, ids[:4], objectIDs(again.Objects), "a cursor passed by lists from the start")

	other := open(t, Config{BaseURL: e.url + "/scim/v2", Token: c.cfg.Token})
	var seen []string
	for page := read(other, p2.Cursor); ; page = read(other, page.Cursor) {
		seen = append(seen, objectIDs(page.Objects)...)
		if page.Cursor == "" {
			break
		}
	}
	assert.Equal(t, ids, seen, "another process lists from the start")

	older := read(c, "5|10|")
	assert.Equal(t, ids[:4], objectIDs(older.Objects), "a cursor of the earlier form lists from the start")
}
