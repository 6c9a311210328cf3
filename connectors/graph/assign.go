package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// defaultAccess is the app role ID of an assignment without a role.
const defaultAccess = "00000000-0000-0000-0000-000000000000"

// assignments are who the provisioned application's service principal is
// assigned to, and with which roles: "sync only assigned users and
// groups". A user is assigned directly or as a member of an assigned group
// and has the roles of both.
type assignments struct {
	enabled bool
	users   map[string][]string // object ID → role JSON
	groups  map[string][]string
	// digest changes when anyone's assignment does. Delta queries do not
	// report assignments, so a read against other assignments than the
	// last is a full one.
	digest string
}

// of returns an object's roles and whether it is assigned.
func (a *assignments) of(t connectors.ObjectType, id string) ([]string, bool) {
	m := a.users
	if t == connectors.Group {
		m = a.groups
	}
	roles, ok := m[id]
	return roles, ok
}

// role is an app role of the application, as appRoleAssignments holds it.
type role struct {
	ID          string `json:"id"`
	Value       string `json:"value,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// assignments returns the service principal's assignments, read again
// when a read begins (fresh) and kept for the pages that follow.
func (c *Client) assignments(ctx context.Context, fresh bool) (*assignments, error) {
	if c.cfg.ServicePrincipal == "" {
		return &assignments{}, nil
	}
	c.assignMu.Lock()
	defer c.assignMu.Unlock()
	if c.assigned != nil && !fresh {
		return c.assigned, nil
	}
	a, err := c.readAssignments(ctx)
	if err != nil {
		return nil, err
	}
	c.assigned = a
	return a, nil
}

func (c *Client) readAssignments(ctx context.Context) (*assignments, error) {
	sp := "/servicePrincipals/" + url.PathEscape(c.cfg.ServicePrincipal)
	var app struct {
		AppRoles []role `json:"appRoles"`
	}
	if err := c.get(ctx, sp+"?$select=id,appRoles", 0, &app); err != nil {
		return nil, err
	}
	roles := map[string]string{defaultAccess: mustJSON(role{ID: defaultAccess, DisplayName: "Default Access"})}
	for _, r := range app.AppRoles {
		roles[r.ID] = mustJSON(r)
	}
	a := &assignments{enabled: true, users: map[string][]string{}, groups: map[string][]string{}}
	add := func(m map[string][]string, id, roleJSON string) {
		if !slices.Contains(m[id], roleJSON) {
			m[id] = append(m[id], roleJSON)
		}
	}
	link := sp + "/appRoleAssignedTo?$top=" + itoa(maxPageSize)
	for link != "" {
		var page struct {
			Value []struct {
				AppRoleID     string `json:"appRoleId"`
				PrincipalID   string `json:"principalId"`
				PrincipalType string `json:"principalType"`
			} `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.get(ctx, link, 0, &page); err != nil {
			return nil, err
		}
		for _, as := range page.Value {
			r, ok := roles[as.AppRoleID]
			if !ok {
				// A role removed from the application keeps its assignments.
				r = mustJSON(role{ID: as.AppRoleID})
			}
			switch as.PrincipalType {
			case "User":
				add(a.users, as.PrincipalID, r)
			case "Group":
				add(a.groups, as.PrincipalID, r)
			}
		}
		link = page.NextLink
	}
	for g, rs := range a.groups {
		// Azure counts direct members only: the users of a nested group
		// are not assigned through it.
		rel := directUsers
		if c.cfg.NestedGroupAssignment {
			rel = transitiveUsers
		}
		ms, err := c.members(ctx, g, rel)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			for _, r := range rs {
				add(a.users, m, r)
			}
		}
	}
	a.digest = digestOf(a)
	return a, nil
}

// digestOf summarises every assignment.
func digestOf(a *assignments) string {
	var lines []string
	for kind, m := range map[string]map[string][]string{"u": a.users, "g": a.groups} {
		for id, rs := range m {
			sorted := slices.Clone(rs)
			sort.Strings(sorted)
			lines = append(lines, kind+":"+id+"="+strings.Join(sorted, "|"))
		}
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:12])
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v) // a struct of strings always marshals
	return string(b)
}
