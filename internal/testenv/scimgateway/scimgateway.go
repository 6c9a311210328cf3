// Package scimgateway runs github.com/marcelom97/scimgateway — a SCIM 2.0
// server this project did not write — over an in-memory plugin on a
// loopback port, so tests show the engine against a second implementation
// of the protocol: its own filter parser, PATCH processor and list paging.
package scimgateway

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	gateway "github.com/marcelom97/scimgateway"
	"github.com/marcelom97/scimgateway/config"
	"github.com/marcelom97/scimgateway/scim"
)

// pluginName is the first path segment of every endpoint: /memory/Users.
const pluginName = "memory"

// Server is a running gateway.
type Server struct {
	// URL is the SCIM base URL, ending in /memory.
	URL   string
	Token string
	mem   *memory
}

// Start serves a gateway with an empty store until the test ends.
func Start(t testing.TB, token string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	base := "http://" + ln.Addr().String()
	gw := gateway.New(&config.Config{
		Gateway: config.GatewayConfig{BaseURL: base},
		Plugins: []config.PluginConfig{{Name: pluginName, Auth: &config.AuthConfig{Type: "bearer", Bearer: &config.BearerAuth{Token: token}}}},
	})
	mem := &memory{users: map[string]*scim.User{}, groups: map[string]*scim.Group{}}
	gw.RegisterPlugin(mem)
	if err := gw.Initialize(); err != nil {
		t.Fatalf("initialize the SCIM gateway: %v", err)
	}
	h, err := gw.Handler()
	if err != nil {
		t.Fatalf("SCIM gateway handler: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &Server{URL: base + "/" + pluginName, Token: token, mem: mem}
}

// Users returns a copy of every user, sorted by userName.
func (s *Server) Users() []scim.User {
	s.mem.mu.RLock()
	defer s.mem.mu.RUnlock()
	out := make([]scim.User, 0, len(s.mem.users))
	for _, u := range s.mem.users {
		out = append(out, *clone(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserName < out[j].UserName })
	return out
}

// Groups returns a copy of every group, sorted by displayName.
func (s *Server) Groups() []scim.Group {
	s.mem.mu.RLock()
	defer s.mem.mu.RUnlock()
	out := make([]scim.Group, 0, len(s.mem.groups))
	for _, g := range s.mem.groups {
		out = append(out, *clone(g))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DisplayName < out[j].DisplayName })
	return out
}

// memory is the plugin: two maps. The gateway filters, pages and selects
// attributes itself; the plugin stores, enforces uniqueness as a real
// application does, and hands out copies so responses never race writes.
type memory struct {
	mu     sync.RWMutex
	users  map[string]*scim.User
	groups map[string]*scim.Group
}

func (m *memory) Name() string { return pluginName }

func (m *memory) GetUsers(_ context.Context, _ scim.QueryParams) ([]*scim.User, error) {
	return list(m, m.users), nil
}

func (m *memory) GetUser(_ context.Context, id string, _ []string) (*scim.User, error) {
	return get(m, m.users, "User", id)
}

func (m *memory) CreateUser(_ context.Context, u *scim.User) (*scim.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.users {
		if strings.EqualFold(o.UserName, u.UserName) {
			return nil, scim.ErrUniqueness("userName " + u.UserName + " is taken")
		}
	}
	u.ID, u.Meta = uuid.NewString(), newMeta("User")
	m.users[u.ID] = clone(u)
	return u, nil
}

func (m *memory) ModifyUser(_ context.Context, id string, patch *scim.PatchOp) error {
	return modify(m, m.users, "User", id, patch, func(u *scim.User) *scim.Meta { return u.Meta })
}

// DeleteUser also drops the user from every group, as applications do.
func (m *memory) DeleteUser(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[id]; !ok {
		return scim.ErrNotFound("User", id)
	}
	delete(m.users, id)
	for _, g := range m.groups {
		kept := g.Members[:0]
		for _, mem := range g.Members {
			if mem.Value != id {
				kept = append(kept, mem)
			}
		}
		g.Members = kept
	}
	return nil
}

func (m *memory) GetGroups(_ context.Context, _ scim.QueryParams) ([]*scim.Group, error) {
	return list(m, m.groups), nil
}

func (m *memory) GetGroup(_ context.Context, id string, _ []string) (*scim.Group, error) {
	return get(m, m.groups, "Group", id)
}

// CreateGroup refuses a second group with the same displayName, which
// Azure requires of applications.
func (m *memory) CreateGroup(_ context.Context, g *scim.Group) (*scim.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.groups {
		if strings.EqualFold(o.DisplayName, g.DisplayName) {
			return nil, scim.ErrUniqueness("displayName " + g.DisplayName + " is taken")
		}
	}
	g.ID, g.Meta = uuid.NewString(), newMeta("Group")
	m.groups[g.ID] = clone(g)
	return g, nil
}

func (m *memory) ModifyGroup(_ context.Context, id string, patch *scim.PatchOp) error {
	return modify(m, m.groups, "Group", id, patch, func(g *scim.Group) *scim.Meta { return g.Meta })
}

func (m *memory) DeleteGroup(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.groups[id]; !ok {
		return scim.ErrNotFound("Group", id)
	}
	delete(m.groups, id)
	return nil
}

func list[T any](m *memory, all map[string]*T) []*T {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*T, 0, len(all))
	for _, r := range all {
		out = append(out, clone(r))
	}
	return out
}

func get[T any](m *memory, all map[string]*T, kind, id string) (*T, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := all[id]
	if !ok {
		return nil, scim.ErrNotFound(kind, id)
	}
	return clone(r), nil
}

// modify applies a PATCH to a copy and stores it only when every
// operation applied, so a refused PATCH changes nothing.
func modify[T any](m *memory, all map[string]*T, kind, id string, patch *scim.PatchOp, meta func(*T) *scim.Meta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := all[id]
	if !ok {
		return scim.ErrNotFound(kind, id)
	}
	c := clone(r)
	if err := scim.NewPatchProcessor().ApplyPatch(c, patch); err != nil {
		var se *scim.SCIMError
		if errors.As(err, &se) {
			return se
		}
		return scim.ErrInvalidValue(err.Error())
	}
	if mt := meta(c); mt != nil {
		now := time.Now().UTC()
		mt.LastModified, mt.Version = &now, `W/"`+uuid.NewString()+`"`
	}
	all[id] = c
	return nil
}

func newMeta(kind string) *scim.Meta {
	now := time.Now().UTC()
	return &scim.Meta{ResourceType: kind, Created: &now, LastModified: &now, Version: `W/"` + uuid.NewString() + `"`}
}

// clone copies a resource through JSON, as a database would.
func clone[T any](r *T) *T {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}
