package sampleapp

import (
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

//go:embed index.html
var indexHTML string

var indexTemplate = template.Must(template.New("index").Parse(indexHTML))

const webPageSize = 50

type userRow struct {
	UserName, Name, Emails, Department, Manager string
	Active                                      bool
}

type groupRow struct {
	DisplayName string
	Members     int
}

type pager struct {
	Page, Pages, Total int
	Prev, Next         int // 0 when there is none
}

type indexPage struct {
	Users     []userRow
	Groups    []groupRow
	UserPage  pager
	GroupPage pager
}

// serveIndex renders one page of users and one of groups.
func (a *App) serveIndex(w http.ResponseWriter, r *http.Request) {
	data := indexPage{
		UserPage:  newPager(pageParam(r, "users"), a.users.tbl.len()),
		GroupPage: newPager(pageParam(r, "groups"), a.groups.tbl.len()),
	}
	users, _ := a.users.tbl.page((data.UserPage.Page-1)*webPageSize, webPageSize)
	groups, _ := a.groups.tbl.page((data.GroupPage.Page-1)*webPageSize, webPageSize)
	for _, u := range users {
		data.Users = append(data.Users, a.userRow(u))
	}
	for _, g := range groups {
		name, _ := g.attrs["displayName"].(string)
		data.Groups = append(data.Groups, groupRow{DisplayName: name, Members: len(asList(g.attrs["members"]))})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTemplate.Execute(w, data); err != nil {
		http.Error(w, "rendering failed", http.StatusInternalServerError)
	}
}

func (a *App) userRow(u *record) userRow {
	row := userRow{Active: true}
	row.UserName, _ = u.attrs["userName"].(string)
	if active, ok := u.attrs["active"].(bool); ok {
		row.Active = active
	}
	if name, ok := u.attrs["name"].(map[string]any); ok {
		if f, _ := name["formatted"].(string); f != "" {
			row.Name = f
		} else {
			given, _ := name["givenName"].(string)
			family, _ := name["familyName"].(string)
			row.Name = strings.TrimSpace(given + " " + family)
		}
	}
	var emails []string
	for _, e := range asList(u.attrs["emails"]) {
		if m, ok := e.(map[string]any); ok {
			if v, _ := m["value"].(string); v != "" {
				emails = append(emails, v)
			}
		}
	}
	row.Emails = strings.Join(emails, ", ")
	if ext, ok := u.attrs[EnterpriseSchema].(map[string]any); ok {
		row.Department, _ = ext["department"].(string)
		if m, ok := ext["manager"].(map[string]any); ok {
			id, _ := m["value"].(string)
			row.Manager = id
			if mgr, ok := a.users.tbl.get(id); ok {
				row.Manager, _ = mgr.attrs["userName"].(string)
			}
		}
	}
	return row
}

func pageParam(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func newPager(page, total int) pager {
	pages := max(1, (total+webPageSize-1)/webPageSize)
	page = min(page, pages)
	p := pager{Page: page, Pages: pages, Total: total}
	if page > 1 {
		p.Prev = page - 1
	}
	if page < pages {
		p.Next = page + 1
	}
	return p
}
