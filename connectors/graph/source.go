package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/openprovisioning/provisioner/connectors"
)

// mark is a read's watermark (the deltaLink, and what it was read with)
// or its cursor (the nextLink of the page to read next). It travels through
// heartbeats and history: it holds links, never a secret or a token.
type mark struct {
	Link string `json:"l"`
	// Select is the digest of the $select the link was started with.
	Select string `json:"s"`
	// Assigned is the digest of the assignments the read was made
	// against; empty when the source reads every user.
	Assigned string `json:"a,omitempty"`
	// Drain marks the pages of the last watermark's delta read before a
	// full read replaces it: only their removals are kept, which a full
	// read cannot see.
	Drain bool `json:"d,omitempty"`
}

func (m mark) String() string {
	b, _ := json.Marshal(m) // a struct of strings always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseMark(field, s string) (mark, error) {
	var m mark
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || m.Link == "" {
		return mark{}, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "graph read", Detail: fmt.Sprintf("the %s %q is not one of this connector's", field, s)}
	}
	return m, nil
}

// deltaPage is one page of a delta query.
type deltaPage struct {
	Value     []map[string]any `json:"value"`
	NextLink  string           `json:"@odata.nextLink"`
	DeltaLink string           `json:"@odata.deltaLink"`
}

// collection is one page of a plain listing.
type collection struct {
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

// endpoint is the collection of an object type.
func endpoint(t connectors.ObjectType) (string, error) {
	switch t {
	case connectors.User:
		return "/users", nil
	case connectors.Group:
		return "/groups", nil
	}
	return "", &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "graph read", Detail: "object type " + string(t) + " is not User or Group"}
}

// fullRead is the link that starts a delta query from nothing.
func fullRead(t connectors.ObjectType, s selection) (string, error) {
	ep, err := endpoint(t)
	if err != nil {
		return "", err
	}
	return ep + "/delta?" + url.Values{"$select": {strings.Join(s.Select, ",")}}.Encode(), nil
}

// Read returns one page of a delta query. Without a watermark, or when the
// watermark's delta link no longer fits the read (the mappings read other
// attributes, the assignments changed, Graph forgot the token), the query
// starts from nothing and returns every object; otherwise only what changed.
// A full read that replaces a delta link Graph still knows first reads that
// link's removals, which the full read would not show.
// Removed objects come as tombstones: deleted for good, or, for users,
// soft-deleted, which disables (IsSoftDeleted) until they are restored or
// deleted for good. A group comes with its whole current member list.
func (c *Client) Read(ctx context.Context, req connectors.ReadRequest) (connectors.Page, error) {
	sel := newSelection(req.Type, req.Attributes)
	full, err := fullRead(req.Type, sel)
	if err != nil {
		return connectors.Page{}, err
	}
	as, err := c.assignments(ctx, req.Cursor == "")
	if err != nil {
		return connectors.Page{}, err
	}
	at := mark{Link: full, Select: sel.digest(), Assigned: as.digest}
	switch {
	case req.Cursor != "":
		m, err := parseMark("cursor", req.Cursor)
		if err != nil {
			return connectors.Page{}, err
		}
		// A read resumed against other assignments than it began with
		// starts again, so that its watermark says what it read.
		if m.Select == at.Select && m.Assigned == at.Assigned {
			at = m
		}
	case req.Since != "":
		m, err := parseMark("watermark", req.Since)
		if err != nil {
			return connectors.Page{}, err
		}
		if m.Select == at.Select && m.Assigned == at.Assigned {
			at = m
		} else {
			c.log.WithField("objectType", req.Type).Info("the attributes read or the assignments changed since the last read: reading every object")
			at.Link, at.Drain = m.Link, true
		}
	}
	var page deltaPage
	err = c.get(ctx, at.Link, c.pageSize(req.PageSize), &page)
	var recovered []map[string]any
	if errors.Is(err, errDeltaExpired) && at.Link != full {
		c.log.WithField("objectType", req.Type).Warn("Graph no longer knows the delta token: reading every object")
		at.Link, at.Drain = full, false
		// What was deleted meanwhile is not in a full read; what Entra ID
		// still keeps as deleted (30 days) is read from its deleted items.
		if recovered, err = c.deletedItems(ctx, req.Type); err == nil {
			err = c.get(ctx, at.Link, c.pageSize(req.PageSize), &page)
		}
	}
	if err != nil {
		return connectors.Page{}, err
	}
	page.Value = append(page.Value, recovered...)
	if at.Drain {
		page.Value = slices.DeleteFunc(page.Value, func(e map[string]any) bool { return e["@removed"] == nil })
	}
	objs, err := c.objects(ctx, sel, as, page.Value)
	if err != nil {
		return connectors.Page{}, err
	}
	out := connectors.Page{Objects: objs}
	switch {
	case page.NextLink != "":
		out.Cursor = mark{Link: page.NextLink, Select: at.Select, Assigned: at.Assigned, Drain: at.Drain}.String()
	case at.Drain && page.DeltaLink != "":
		out.Cursor = mark{Link: full, Select: at.Select, Assigned: at.Assigned}.String()
	case page.DeltaLink != "":
		out.Watermark = mark{Link: page.DeltaLink, Select: at.Select, Assigned: at.Assigned}.String()
	default:
		return connectors.Page{}, &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: "GET " + opPath(at.Link),
			Detail: "a delta page has neither @odata.nextLink nor @odata.deltaLink"}
	}
	return out, nil
}

func (c *Client) pageSize(hint int) int {
	if hint > 0 && hint < c.cfg.PageSize {
		return hint
	}
	return c.cfg.PageSize
}

// objects converts a page's entries, once each: a group may come more
// than once in a page, with parts of its member changes.
func (c *Client) objects(ctx context.Context, sel selection, as *assignments, entries []map[string]any) ([]connectors.Object, error) {
	out := make([]connectors.Object, 0, len(entries))
	seen := map[string]bool{}
	for _, raw := range entries {
		id, _ := raw["id"].(string)
		if id == "" {
			out = append(out, connectors.Object{Locator: "an entry without id", Invalid: "Graph returned an entry without an id"})
			continue
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		o, err := c.object(ctx, sel, as, id, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// object converts one entry of a delta page or one object read by ID.
func (c *Client) object(ctx context.Context, sel selection, as *assignments, id string, raw map[string]any) (connectors.Object, error) {
	o := connectors.Object{ID: id, Locator: strings.ToLower(string(sel.Type)) + "s/" + id}
	if removed, ok := raw["@removed"].(map[string]any); ok {
		// "changed": soft-deleted (restorable for 30 days); "deleted": gone.
		if reason, _ := removed["reason"].(string); reason == "changed" && sel.Type == connectors.User {
			o.Disabled = true
		} else {
			o.Deleted = true
		}
		return o, nil
	}
	o.Attributes = sel.attributes(raw)
	if upn, ok := raw["userPrincipalName"].(string); ok {
		o.Locator = upn
	}
	if sel.Type == connectors.User {
		if enabled, ok := raw["accountEnabled"].(bool); ok && !enabled {
			o.Disabled = true
		}
	}
	if as.enabled {
		roles, assigned := as.of(sel.Type, id)
		if !assigned {
			o.Disabled = true
		}
		if sel.Roles {
			o.Attributes[AppRoleAssignments] = roles
		}
	} else if sel.Roles {
		o.Attributes[AppRoleAssignments] = nil
	}
	if sel.Type == connectors.Group {
		ms, err := c.members(ctx, id, directMembers)
		if err != nil {
			return o, err
		}
		o.Members = ms
	}
	return o, nil
}

// Member listings of a group.
const (
	directMembers   = "/members"
	directUsers     = "/members/microsoft.graph.user"
	transitiveUsers = "/transitiveMembers/microsoft.graph.user"
)

// members lists the members of a group the listing rel names (users and
// groups of directMembers; the users of the others), following nextLinks.
// A delta page only says what changed in a membership; the engine keeps
// whole lists.
func (c *Client) members(ctx context.Context, group, rel string) ([]string, error) {
	link := "/groups/" + url.PathEscape(group) + rel + "?" + url.Values{"$select": {"id"}, "$top": {itoa(maxPageSize)}}.Encode()
	var ids []string
	for link != "" {
		var page collection
		if err := c.get(ctx, link, 0, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Value {
			id, _ := m["id"].(string)
			typ, _ := m["@odata.type"].(string)
			if id != "" && (rel != directMembers || typ == "" || typ == "#microsoft.graph.user" || typ == "#microsoft.graph.group") {
				ids = append(ids, id)
			}
		}
		link = page.NextLink
	}
	return ids, nil
}

// deletedItems lists the users or groups in the tenant's deleted items, as
// soft-deleted delta entries (@removed with reason "changed").
func (c *Client) deletedItems(ctx context.Context, t connectors.ObjectType) ([]map[string]any, error) {
	link := "/directory/deletedItems/microsoft.graph." + strings.ToLower(string(t)) + "?" + url.Values{"$select": {"id"}, "$top": {itoa(maxPageSize)}}.Encode()
	var out []map[string]any
	for link != "" {
		var page collection
		if err := c.get(ctx, link, 0, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Value {
			if id, ok := e["id"].(string); ok && id != "" {
				out = append(out, map[string]any{"id": id, "@removed": map[string]any{"reason": "changed"}})
			}
		}
		link = page.NextLink
	}
	return out, nil
}

// Get reads one user or group by object ID, for provisioning on demand.
func (c *Client) Get(ctx context.Context, t connectors.ObjectType, id string, attributes []string) (connectors.Object, error) {
	ep, err := endpoint(t)
	if err != nil {
		return connectors.Object{}, err
	}
	if strings.TrimSpace(id) == "" {
		return connectors.Object{}, &connectors.Error{Kind: connectors.KindNotFound, Op: "GET " + ep, Detail: "empty object ID"}
	}
	sel := newSelection(t, attributes)
	q := url.Values{"$select": {strings.Join(withoutNavigation(sel.Select), ",")}}
	if sel.Manager {
		q.Set("$expand", "manager($select=id)")
	}
	as, err := c.assignments(ctx, false)
	if err != nil {
		return connectors.Object{}, err
	}
	var raw map[string]any
	if err := c.get(ctx, ep+"/"+url.PathEscape(id)+"?"+q.Encode(), 0, &raw); err != nil {
		return connectors.Object{}, err
	}
	return c.object(ctx, sel, as, id, raw)
}

// withoutNavigation drops the navigation properties a delta query selects
// but a plain read expands or lists on its own.
func withoutNavigation(props []string) []string {
	out := make([]string, 0, len(props))
	for _, p := range props {
		if p != Manager && p != members {
			out = append(out, p)
		}
	}
	return out
}
