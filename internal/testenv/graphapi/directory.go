package graphapi

import (
	"fmt"
	"maps"
	"slices"
)

// User is a user's properties as Graph names them ("userPrincipalName",
// "accountEnabled", "businessPhones", "extension_{appId}_costCenter").
type User map[string]any

// AddUser creates a user and returns its object ID.
func (s *Server) AddUser(props User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := NewID()
	s.version++
	p := map[string]any{"accountEnabled": true}
	maps.Copy(p, props)
	s.users[id] = &object{id: id, props: p, changed: s.version}
	return id
}

// UpdateUser sets properties of a user; a nil value clears one.
func (s *Server) UpdateUser(id string, props User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(s.mustUser(id), props)
}

// set changes an object's properties; a nil value clears one.
func (s *Server) set(o *object, props map[string]any) {
	s.version++
	for k, v := range props {
		if v == nil {
			delete(o.props, k)
		} else {
			o.props[k] = v
		}
	}
	o.changed = s.version
}

// SetManager sets (or, with "", clears) a user's manager.
func (s *Server) SetManager(id, manager string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser(id)
	s.version++
	u.manager, u.changed = manager, s.version
}

// DeleteUser deletes a user: soft (restorable, reported as @removed with
// reason "changed") or for good (reason "deleted").
func (s *Server) DeleteUser(id string, soft bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser(id)
	s.version++
	u.changed, u.removed = s.version, "deleted"
	if soft {
		u.removed = "changed"
	}
	for _, g := range s.groups {
		if slices.Contains(g.members, id) {
			s.removeMember(g, id)
		}
	}
}

// RestoreUser brings a soft-deleted user back.
func (s *Server) RestoreUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser(id)
	s.version++
	u.changed, u.removed = s.version, ""
}

// AddGroup creates a group with members and returns its object ID.
func (s *Server) AddGroup(displayName string, members ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := NewID()
	s.version++
	g := &object{id: id, props: map[string]any{"displayName": displayName, "securityEnabled": true, "mailEnabled": false}, changed: s.version}
	s.groups[id] = g
	for _, m := range members {
		s.addMember(g, m)
	}
	return id
}

// UpdateGroup sets properties of a group; a nil value clears one.
func (s *Server) UpdateGroup(id string, props map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(s.mustGroup(id), props)
}

// AddMember adds a user or group to a group.
func (s *Server) AddMember(group, member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addMember(s.mustGroup(group), member)
}

// RemoveMember takes a member out of a group.
func (s *Server) RemoveMember(group, member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeMember(s.mustGroup(group), member)
}

// DeleteGroup deletes a group for good.
func (s *Server) DeleteGroup(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(id)
	s.version++
	g.changed, g.removed = s.version, "deleted"
}

func (s *Server) addMember(g *object, m string) {
	if slices.Contains(g.members, m) {
		return
	}
	s.version++
	g.members = append(g.members, m)
	g.memberLog = append(g.memberLog, memberChange{version: s.version, id: m, added: true})
	g.changed = s.version
}

func (s *Server) removeMember(g *object, m string) {
	i := slices.Index(g.members, m)
	if i < 0 {
		return
	}
	s.version++
	g.members = slices.Delete(g.members, i, i+1)
	g.memberLog = append(g.memberLog, memberChange{version: s.version, id: m})
	g.changed = s.version
}

// SetAppRoles sets the application's roles.
func (s *Server) SetAppRoles(roles ...AppRole) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.roles = roles
}

// Assign assigns a user or group (principalType "User" or "Group") to the
// application with a role ("" for default access) and returns the
// assignment's ID. Assignments do not show in users' or groups' deltas.
func (s *Server) Assign(principal, principalType, roleID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if roleID == "" {
		roleID = "00000000-0000-0000-0000-000000000000"
	}
	a := Assignment{ID: NewID(), AppRoleID: roleID, PrincipalID: principal, PrincipalType: principalType}
	s.app.assignments = append(s.app.assignments, a)
	return a.ID
}

// Unassign removes an assignment.
func (s *Server) Unassign(assignment string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.assignments = slices.DeleteFunc(s.app.assignments, func(a Assignment) bool { return a.ID == assignment })
}

func (s *Server) mustUser(id string) *object {
	u, ok := s.users[id]
	if !ok {
		panic(fmt.Sprintf("graphapi: no user %s", id))
	}
	return u
}

func (s *Server) mustGroup(id string) *object {
	g, ok := s.groups[id]
	if !ok {
		panic(fmt.Sprintf("graphapi: no group %s", id))
	}
	return g
}
