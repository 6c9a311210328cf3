package graphapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// userProperties are the user properties $select may name besides those
// the users hold; groupProperties the group's.
var (
	userProperties = []string{"id", "accountEnabled", "userPrincipalName", "displayName", "givenName", "surname", "mail", "mailNickname",
		"jobTitle", "department", "companyName", "employeeId", "employeeType", "mobilePhone", "businessPhones", "faxNumber", "officeLocation",
		"streetAddress", "city", "state", "postalCode", "country", "usageLocation", "preferredLanguage", "userType", "onPremisesImmutableId",
		"onPremisesExtensionAttributes", "employeeOrgData", "employeeHireDate", "proxyAddresses", "otherMails", "manager"}
	groupProperties = []string{"id", "displayName", "description", "mail", "mailNickname", "mailEnabled", "securityEnabled", "groupTypes", "members"}
)

// session is a delta query's result, read page by page with skip tokens.
type session struct {
	kind    string
	entries []map[string]any
	// end is the version the deltaLink of the last page resumes after.
	end    int64
	sel    []string
	offset int
}

// deltaState is what a delta token holds.
type deltaState struct {
	Version int64    `json:"v"`
	Select  []string `json:"s"`
}

func (s *Server) delta(w http.ResponseWriter, r *http.Request, kind string) {
	q := r.URL.Query()
	size := pageSize(r)
	var sess *session
	switch {
	case q.Get("$skiptoken") != "":
		sess = s.sessions[q.Get("$skiptoken")]
		if sess == nil || sess.kind != kind {
			graphError(w, http.StatusGone, "syncStateNotFound", "The sync state is not found or has expired; restart the sync with a request without a state token.")
			return
		}
		delete(s.sessions, q.Get("$skiptoken"))
	default:
		st := deltaState{}
		if tok := q.Get("$deltatoken"); tok != "" {
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil || json.Unmarshal(b, &st) != nil || st.Version < s.expiredBelow {
				graphError(w, http.StatusGone, "syncStateNotFound", "The sync state is not found or has expired; restart the sync with a request without a state token.")
				return
			}
		} else {
			var ok bool
			if st.Select, ok = s.selection(w, kind, q.Get("$select")); !ok {
				return
			}
		}
		sess = &session{kind: kind, end: s.version, sel: st.Select, entries: s.changes(kind, st.Version, st.Select)}
	}
	end := min(sess.offset+size, len(sess.entries))
	page := map[string]any{
		"@odata.context": s.GraphURL + "/$metadata#" + kind,
		"value":          sess.entries[sess.offset:end],
	}
	if end < len(sess.entries) {
		sess.offset = end
		token := NewID()
		s.sessions[token] = sess
		page["@odata.nextLink"] = s.GraphURL + "/" + kind + "/delta?$skiptoken=" + token
	} else {
		b, _ := json.Marshal(deltaState{Version: sess.end, Select: sess.sel})
		page["@odata.deltaLink"] = s.GraphURL + "/" + kind + "/delta?$deltatoken=" + base64.RawURLEncoding.EncodeToString(b)
	}
	w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(size))
	writeJSON(w, http.StatusOK, page)
}

func pageSize(r *http.Request) int {
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "odata.maxpagesize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("$top")); err == nil && n > 0 {
		return n
	}
	return defaultPageSize
}

// selection checks a $select against the properties objects of the kind
// have, as Graph refuses an unknown one; empty selects the defaults.
func (s *Server) selection(w http.ResponseWriter, kind, sel string) ([]string, bool) {
	known := slices.Clone(groupProperties)
	typ := "group"
	objs := s.groups
	if kind == "users" {
		known, typ, objs = slices.Clone(userProperties), "user", s.users
	}
	for _, o := range objs {
		for k := range o.props {
			known = append(known, k)
		}
	}
	if sel == "" {
		return []string{"id", "displayName"}, true
	}
	var out []string
	for _, p := range strings.Split(sel, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(known, p) {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Could not find a property named '"+p+"' on type 'microsoft.graph."+typ+"'.")
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// changes lists the delta entries of what changed after version since
// (everything there is, for 0), in the order of the changes.
func (s *Server) changes(kind string, since int64, sel []string) []map[string]any {
	objs := s.groups
	if kind == "users" {
		objs = s.users
	}
	list := make([]*object, 0, len(objs))
	for _, o := range objs {
		if o.changed > since && (since > 0 || o.removed == "") {
			list = append(list, o)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].changed < list[j].changed })
	out := make([]map[string]any, 0, len(list))
	for _, o := range list {
		if o.removed != "" {
			out = append(out, map[string]any{"@odata.type": "#microsoft.graph." + strings.TrimSuffix(kind, "s"), "id": o.id, "@removed": map[string]any{"reason": o.removed}})
			continue
		}
		e := s.selected(o, sel)
		if slices.Contains(sel, "manager") && kind == "users" {
			e["manager@delta"] = []any{}
			if o.manager != "" {
				e["manager@delta"] = []any{map[string]any{"@odata.type": "#microsoft.graph.user", "id": o.manager}}
			}
		}
		if slices.Contains(sel, "members") && kind == "groups" {
			e["members@delta"] = s.memberDelta(o, since)
		}
		out = append(out, e)
	}
	return out
}

// selected returns an object's selected properties and its id.
func (s *Server) selected(o *object, sel []string) map[string]any {
	e := map[string]any{"id": o.id}
	for _, p := range sel {
		if p == "manager" || p == "members" || p == "id" {
			continue
		}
		e[p] = o.props[p] // absent properties are null, as Graph has them
	}
	return e
}

// memberDelta is a group's members@delta: every member in a full read;
// the members added and removed since, with @removed, in a delta.
func (s *Server) memberDelta(g *object, since int64) []any {
	var out []any
	if since == 0 {
		for _, m := range g.members {
			out = append(out, s.memberRef(m))
		}
		return out
	}
	last := map[string]bool{}
	var order []string
	for _, c := range g.memberLog {
		if c.version <= since {
			continue
		}
		if _, seen := last[c.id]; !seen {
			order = append(order, c.id)
		}
		last[c.id] = c.added
	}
	for _, id := range order {
		ref := s.memberRef(id)
		if !last[id] {
			ref["@removed"] = map[string]any{"reason": "deleted"}
		}
		out = append(out, ref)
	}
	return out
}

func (s *Server) memberRef(id string) map[string]any {
	typ := "#microsoft.graph.user"
	if _, ok := s.groups[id]; ok {
		typ = "#microsoft.graph.group"
	}
	return map[string]any{"@odata.type": typ, "id": id}
}

// getObject answers GET /users/{id} and /groups/{id}.
func (s *Server) getObject(w http.ResponseWriter, r *http.Request, kind, id string) {
	objs := s.groups
	if kind == "users" {
		objs = s.users
	}
	o, ok := objs[id]
	if !ok || o.removed != "" {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	q := r.URL.Query()
	sel, ok := s.selection(w, kind, q.Get("$select"))
	if !ok {
		return
	}
	e := s.selected(o, sel)
	e["@odata.context"] = s.GraphURL + "/$metadata#" + kind + "/$entity"
	if strings.HasPrefix(q.Get("$expand"), "manager") && o.manager != "" {
		e["manager"] = map[string]any{"@odata.type": "#microsoft.graph.user", "id": o.manager}
	}
	writeJSON(w, http.StatusOK, e)
}

// list answers GET /users and /groups: the live objects with their
// selected properties, paged by $top.
func (s *Server) list(w http.ResponseWriter, r *http.Request, kind string) {
	sel, ok := s.selection(w, kind, r.URL.Query().Get("$select"))
	if !ok {
		return
	}
	objs := s.groups
	if kind == "users" {
		objs = s.users
	}
	var entries []map[string]any
	for _, o := range objs {
		if o.removed == "" {
			entries = append(entries, s.selected(o, sel))
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i]["id"].(string) < entries[j]["id"].(string) })
	s.pageOf(w, r, entries)
}

// deletedItems answers /directory/deletedItems/microsoft.graph.user (or
// .group): the objects deleted and still restorable.
func (s *Server) deletedItems(w http.ResponseWriter, r *http.Request, cast string) {
	var objs map[string]*object
	switch cast {
	case "microsoft.graph.user":
		objs = s.users
	case "microsoft.graph.group":
		objs = s.groups
	default:
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "Deleted items of type '"+cast+"' are not supported.")
		return
	}
	var entries []map[string]any
	for _, o := range objs {
		if o.removed == "changed" {
			e := s.selected(o, []string{"displayName"})
			e["@odata.type"] = "#" + cast
			e["deletedDateTime"] = "2026-01-01T00:00:00Z"
			entries = append(entries, e)
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i]["id"].(string) < entries[j]["id"].(string) })
	s.pageOf(w, r, entries)
}

// listMembers answers /groups/{id}/members, /members/microsoft.graph.user
// and /transitiveMembers/microsoft.graph.user, paged by $top.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, id, rel string) {
	g, ok := s.groups[id]
	if !ok || g.removed != "" {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	var ids []string
	switch rel {
	case "members":
		ids = g.members
	case "members/microsoft.graph.user":
		for _, m := range g.members {
			if _, isGroup := s.groups[m]; !isGroup {
				ids = append(ids, m)
			}
		}
	case "transitiveMembers/microsoft.graph.user":
		ids = s.transitiveUsers(g, map[string]bool{})
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+rel+"'.")
		return
	}
	entries := make([]map[string]any, len(ids))
	for i, m := range ids {
		entries[i] = s.memberRef(m)
	}
	s.pageOf(w, r, entries)
}

func (s *Server) transitiveUsers(g *object, seen map[string]bool) []string {
	var out []string
	for _, m := range g.members {
		if seen[m] {
			continue
		}
		seen[m] = true
		if sub, ok := s.groups[m]; ok {
			out = append(out, s.transitiveUsers(sub, seen)...)
		} else {
			out = append(out, m)
		}
	}
	return out
}

// pageOf answers one page of a listing, by $top and a $skiptoken that is
// the offset.
func (s *Server) pageOf(w http.ResponseWriter, r *http.Request, entries []map[string]any) {
	q := r.URL.Query()
	size := pageSize(r)
	offset, _ := strconv.Atoi(q.Get("$skiptoken"))
	offset = min(max(offset, 0), len(entries))
	end := min(offset+size, len(entries))
	page := map[string]any{"@odata.context": s.GraphURL + "/$metadata#directoryObjects", "value": entries[offset:end]}
	if end < len(entries) {
		q.Set("$skiptoken", strconv.Itoa(end))
		page["@odata.nextLink"] = s.URL + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) servicePrincipal(w http.ResponseWriter, id string) {
	if id != s.app.servicePrincipal {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	roles := make([]map[string]any, len(s.app.roles))
	for i, r := range s.app.roles {
		roles[i] = map[string]any{"allowedMemberTypes": []string{"User"}, "description": r.DisplayName, "displayName": r.DisplayName,
			"id": r.ID, "isEnabled": true, "origin": "Application", "value": r.Value}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.GraphURL + "/$metadata#servicePrincipals(id,appRoles)/$entity", "id": id, "appRoles": roles})
}

func (s *Server) assignedTo(w http.ResponseWriter, r *http.Request, id string) {
	if id != s.app.servicePrincipal {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	entries := make([]map[string]any, len(s.app.assignments))
	for i, a := range s.app.assignments {
		name := ""
		if o, ok := s.users[a.PrincipalID]; ok {
			name, _ = o.props["displayName"].(string)
		} else if o, ok := s.groups[a.PrincipalID]; ok {
			name, _ = o.props["displayName"].(string)
		}
		entries[i] = map[string]any{"id": a.ID, "appRoleId": a.AppRoleID, "principalId": a.PrincipalID, "principalType": a.PrincipalType,
			"principalDisplayName": name, "resourceId": id, "createdDateTime": "2026-01-01T00:00:00Z", "deletedDateTime": nil}
	}
	s.pageOf(w, r, entries)
}
