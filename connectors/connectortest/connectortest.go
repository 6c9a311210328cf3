// Package connectortest is the conformance suite every source and target
// connector passes, as storetest is for stores: what the engine relies on
// whatever system is behind a connector. A connector's test supplies a
// harness that opens it against a real system holding known objects.
//
// A new connector is one package: its configuration type implements
// connectors.SourceConfig or TargetConfig and registers itself in an init
// function (connectors.RegisterSource, RegisterTarget), and connectors/all
// imports the package. Its Validate reports each problem as a
// connectors.FieldError at the field's path relative to the connection
// (connectors.Invalid("baseURL", "required"), connectors.SecretProblem for
// a secret that is not there), joined with errors.Join; the problems of a
// nested part (an object type's settings, one file of several) are
// re-rooted with connectors.Under. The job names each at its whole path
// (target.ldap.users.container). Problems holds a connector's
// configuration tests to this; config's example connector test is a whole
// connector.
package connectortest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
)

// prompt is how long a call given a cancelled context may take to return.
const prompt = 5 * time.Second

// SourceHarness opens a source for the suite.
type SourceHarness struct {
	// Type is the object type the suite reads.
	Type connectors.ObjectType
	// Open returns a source holding exactly n objects of Type with
	// distinct IDs.
	Open func(t *testing.T, n int) connectors.Source
	// PageSize is asked of every read; small, so that n objects span pages
	// where the source pages at all.
	PageSize int
	// MissingID is an ID no object has, in the form the source's IDs take.
	MissingID string
	// Unauthorized returns a source whose credentials the system refuses,
	// or the error opening it; nil when the source has no credentials.
	Unauthorized func(t *testing.T) (connectors.Source, error)
}

// TestSource runs the source conformance suite.
func TestSource(t *testing.T, h SourceHarness) {
	t.Run("PagingReadsEveryObjectOnce", func(t *testing.T) { sourcePaging(t, h) })
	t.Run("GetByID", func(t *testing.T) { sourceGet(t, h) })
	t.Run("Unauthorized", func(t *testing.T) {
		if h.Unauthorized == nil {
			t.Skip("the source has no credentials")
		}
		s, err := h.Unauthorized(t)
		if err == nil {
			defer s.Close()
			_, err = s.Read(context.Background(), connectors.ReadRequest{Type: h.Type, PageSize: h.PageSize})
		}
		wantKind(t, err, connectors.KindUnauthorized)
	})
	t.Run("CancelledReadStops", func(t *testing.T) { sourceCancel(t, h) })
}

func sourcePaging(t *testing.T, h SourceHarness) {
	const n = 7
	s := h.Open(t, n)
	defer s.Close()
	seen := map[string]int{}
	pages := 0
	req := connectors.ReadRequest{Type: h.Type, PageSize: h.PageSize}
	for {
		page, err := s.Read(context.Background(), req)
		if err != nil {
			t.Fatalf("Read page %d: %v", pages+1, err)
		}
		pages++
		for _, o := range page.Objects {
			if o.Invalid != "" {
				t.Errorf("object %s (%s) is invalid: %s", o.ID, o.Locator, o.Invalid)
			}
			seen[o.ID]++
		}
		if page.Cursor == "" {
			break
		}
		if page.Watermark != "" {
			t.Errorf("page %d carries a watermark but is not the last", pages)
		}
		if page.Cursor == req.Cursor {
			t.Fatalf("page %d returned the cursor it was given: the read does not advance", pages)
		}
		if pages > 10*n {
			t.Fatalf("the read did not end after %d pages", pages)
		}
		req.Cursor = page.Cursor
	}
	if len(seen) != n {
		t.Errorf("read %d distinct objects over %d pages, want %d: %v", len(seen), pages, n, seen)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("object %s was read %d times", id, k)
		}
	}
}

func sourceGet(t *testing.T, h SourceHarness) {
	s := h.Open(t, 3)
	defer s.Close()
	g, ok := s.(connectors.Getter)
	if !ok {
		t.Skip("the source cannot read one object by ID")
	}
	page, err := s.Read(context.Background(), connectors.ReadRequest{Type: h.Type, PageSize: h.PageSize})
	if err != nil || len(page.Objects) == 0 {
		t.Fatalf("Read: %d objects, %v", len(page.Objects), err)
	}
	want := page.Objects[0]
	got, err := g.Get(context.Background(), h.Type, want.ID, nil)
	if err != nil {
		t.Fatalf("Get %s: %v", want.ID, err)
	}
	if got.ID != want.ID {
		t.Errorf("Get %s returned object %s", want.ID, got.ID)
	}
	_, err = g.Get(context.Background(), h.Type, h.MissingID, nil)
	if !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("Get of a missing object: %v, want an error matching ErrNotFound", err)
	}
}

func sourceCancel(t *testing.T, h SourceHarness) {
	s := h.Open(t, 3)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := within(t, func() error {
		_, err := s.Read(ctx, connectors.ReadRequest{Type: h.Type, PageSize: h.PageSize})
		return err
	})
	if err == nil {
		t.Fatal("a read with a cancelled context succeeded")
	}
}

// TargetHarness opens a target for the suite.
type TargetHarness struct {
	// Type is the object type the suite creates.
	Type connectors.ObjectType
	// Open returns an empty target (of objects of Type).
	Open func(t *testing.T) connectors.Target
	// Object returns the attributes of the i-th object to create; Key's
	// value must differ between objects.
	Object func(i int) connectors.Attributes
	// Key is an attribute that identifies an object, for Find.
	Key string
	// MissingID is a target ID no object has, in the form the target's IDs
	// take.
	MissingID string
	// Unauthorized returns a target whose credentials the system refuses,
	// or the error opening it.
	Unauthorized func(t *testing.T) (connectors.Target, error)
}

// TestTarget runs the target conformance suite.
func TestTarget(t *testing.T, h TargetHarness) {
	t.Run("CreateGetFind", func(t *testing.T) { targetCreate(t, h) })
	t.Run("ListEveryObjectOnce", func(t *testing.T) { targetList(t, h) })
	t.Run("Delete", func(t *testing.T) { targetDelete(t, h) })
	t.Run("MissingIsNotFound", func(t *testing.T) {
		tg := h.Open(t)
		defer tg.Close()
		_, err := tg.Get(context.Background(), h.Type, h.MissingID)
		wantKind(t, err, connectors.KindNotFound)
		if !errors.Is(err, connectors.ErrNotFound) {
			t.Errorf("Get of a missing object: %v does not match ErrNotFound", err)
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		tg, err := h.Unauthorized(t)
		if err == nil {
			defer tg.Close()
			_, err = tg.Find(context.Background(), h.Type, h.Key, fmt.Sprint(h.Object(0)[h.Key]))
		}
		wantKind(t, err, connectors.KindUnauthorized)
	})
	t.Run("CancelledCallStops", func(t *testing.T) { targetCancel(t, h) })
}

// create makes n objects and returns their IDs.
func create(t *testing.T, h TargetHarness, tg connectors.Target, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		id, err := tg.Create(context.Background(), h.Type, h.Object(i))
		if err != nil {
			t.Fatalf("Create object %d: %v", i, err)
		}
		if id == "" {
			t.Fatalf("Create object %d returned no ID", i)
		}
		ids[i] = id
	}
	return ids
}

func targetCreate(t *testing.T, h TargetHarness) {
	tg := h.Open(t)
	defer tg.Close()
	ids := create(t, h, tg, 3)
	for i, id := range ids {
		got, err := tg.Get(context.Background(), h.Type, id)
		if err != nil || got.ID != id {
			t.Errorf("Get %s: %+v, %v", id, got, err)
		}
		found, err := tg.Find(context.Background(), h.Type, h.Key, h.Object(i)[h.Key])
		if err != nil || len(found) != 1 || found[0].ID != id {
			t.Errorf("Find %s=%v: %+v, %v; want object %s alone", h.Key, h.Object(i)[h.Key], found, err, id)
		}
	}
	if _, err := tg.Create(context.Background(), h.Type, h.Object(0)); connectors.KindOf(err) != connectors.KindConflict {
		t.Errorf("creating object 0 again: %v, want kind %s", err, connectors.KindConflict)
	}
}

func targetList(t *testing.T, h TargetHarness) {
	tg := h.Open(t)
	defer tg.Close()
	l, ok := tg.(connectors.Lister)
	if !ok {
		t.Skip("the target cannot list")
	}
	const n = 7
	ids := create(t, h, tg, n)
	seen := map[string]int{}
	if err := l.List(context.Background(), h.Type, func(o connectors.TargetObject) error {
		seen[o.ID]++
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("List returned object %s %d times, want once", id, seen[id])
		}
	}
	if len(seen) != n {
		t.Errorf("List returned %d objects, want %d", len(seen), n)
	}
}

func targetDelete(t *testing.T, h TargetHarness) {
	tg := h.Open(t)
	defer tg.Close()
	ids := create(t, h, tg, 2)
	ctx := context.Background()
	if err := tg.Delete(ctx, h.Type, ids[0]); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := tg.Get(ctx, h.Type, ids[0]); !errors.Is(err, connectors.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want not found", err)
	}
	if err := tg.Delete(ctx, h.Type, ids[0]); err != nil {
		t.Errorf("deleting an absent object: %v, want no error", err)
	}
	if found, err := tg.Find(ctx, h.Type, h.Key, h.Object(0)[h.Key]); err != nil || len(found) != 0 {
		t.Errorf("Find after Delete: %+v, %v; want nothing", found, err)
	}
	if _, err := tg.Get(ctx, h.Type, ids[1]); err != nil {
		t.Errorf("the other object went with the deleted one: %v", err)
	}
}

func targetCancel(t *testing.T, h TargetHarness) {
	tg := h.Open(t)
	defer tg.Close()
	ids := create(t, h, tg, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := within(t, func() error { _, err := tg.Get(ctx, h.Type, ids[0]); return err }); err == nil {
		t.Error("a Get with a cancelled context succeeded")
	}
	if l, ok := tg.(connectors.Lister); ok {
		err := within(t, func() error {
			return l.List(ctx, h.Type, func(connectors.TargetObject) error { return nil })
		})
		if err == nil {
			t.Error("a List with a cancelled context succeeded")
		}
	}
}

// within runs call, failing the test if it does not return promptly.
func within(t *testing.T, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(prompt):
		t.Fatalf("a call with a cancelled context did not return within %s", prompt)
		return nil
	}
}

func wantKind(t *testing.T, err error, k connectors.Kind) {
	t.Helper()
	if got := connectors.KindOf(err); got != k {
		t.Errorf("error %v is of kind %q, want %q", err, got, k)
	}
}
