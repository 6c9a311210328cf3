package engine_test

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/openprovisioning/provisioner/connectors"
)

// memorySource is a snapshot source holding its objects in memory, read
// in one page.
type memorySource struct {
	mu      sync.Mutex
	objects map[connectors.ObjectType][]connectors.Object
}

func (s *memorySource) ChangeDetection() connectors.ChangeDetection { return connectors.Snapshot }

func (s *memorySource) Read(_ context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return connectors.Page{Objects: append([]connectors.Object(nil), s.objects[req.Type]...), Watermark: "end"}, nil
}

func (s *memorySource) Close() error { return nil }

// memoryTarget is a target holding its objects in memory. A create whose
// userName is in refuse fails with that error.
type memoryTarget struct {
	mu      sync.Mutex
	objects map[string]connectors.TargetObject
	next    int
	refuse  map[string]error
	calls   []string
}

func newMemoryTarget() *memoryTarget {
	return &memoryTarget{objects: map[string]connectors.TargetObject{}, refuse: map[string]error{}}
}

func (t *memoryTarget) call(name string) {
	t.calls = append(t.calls, name)
}

func (t *memoryTarget) Find(_ context.Context, _ connectors.ObjectType, attribute string, value any) ([]connectors.TargetObject, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.call("Find")
	var out []connectors.TargetObject
	for _, o := range t.objects {
		if v, ok := o.Attributes[attribute]; ok && fmt.Sprint(v) == fmt.Sprint(value) {
			out = append(out, t.copy(o))
		}
	}
	return out, nil
}

func (t *memoryTarget) Get(_ context.Context, _ connectors.ObjectType, id string) (connectors.TargetObject, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.objects[id]
	if !ok {
		return connectors.TargetObject{}, &connectors.Error{Kind: connectors.KindNotFound, Op: "get " + id}
	}
	return t.copy(o), nil
}

func (t *memoryTarget) Create(_ context.Context, _ connectors.ObjectType, attrs connectors.Attributes) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.call("Create")
	if err := t.refuse[fmt.Sprint(attrs["userName"])]; err != nil {
		return "", err
	}
	t.next++
	id := fmt.Sprintf("t%d", t.next)
	t.objects[id] = connectors.TargetObject{ID: id, Attributes: maps.Clone(attrs), Active: true}
	return id, nil
}

func (t *memoryTarget) Update(_ context.Context, _ connectors.ObjectType, id string, changes []connectors.Change) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.call("Update")
	o, ok := t.objects[id]
	if !ok {
		return &connectors.Error{Kind: connectors.KindNotFound, Op: "update " + id}
	}
	for _, c := range changes {
		if c.New == nil {
			delete(o.Attributes, c.Attribute)
		} else {
			o.Attributes[c.Attribute] = c.New
		}
	}
	return nil
}

func (t *memoryTarget) SetActive(_ context.Context, _ connectors.ObjectType, id string, active bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.call("SetActive")
	o, ok := t.objects[id]
	if !ok {
		return &connectors.Error{Kind: connectors.KindNotFound, Op: "set active " + id}
	}
	o.Active = active
	t.objects[id] = o
	return nil
}

func (t *memoryTarget) Delete(_ context.Context, _ connectors.ObjectType, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.call("Delete")
	delete(t.objects, id)
	return nil
}

func (t *memoryTarget) Close() error { return nil }

// copy is an object as a caller may keep it.
func (t *memoryTarget) copy(o connectors.TargetObject) connectors.TargetObject {
	o.Attributes = maps.Clone(o.Attributes)
	return o
}

// object returns a target object by ID.
func (t *memoryTarget) object(id string) (connectors.TargetObject, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.objects[id]
	return t.copy(o), ok
}

// pushes returns the calls that changed the target, and forgets them.
func (t *memoryTarget) pushes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, c := range t.calls {
		if c != "Find" {
			out = append(out, c)
		}
	}
	t.calls = nil
	return out
}
