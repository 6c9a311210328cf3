package main

import (
	"fmt"

	"github.com/openprovisioning/provisioner/examples/hrexport"
	"github.com/openprovisioning/provisioner/sampleapp"
)

// checkUsers checks that the target holds exactly the in-scope users, once
// each, with their externalId and, when titles is set, their current title.
func checkUsers(app *sampleapp.App, want []*hrexport.Employee, titles bool) check {
	got := map[string]sampleapp.Resource{}
	for _, u := range app.Users() {
		name, _ := u.Attributes["userName"].(string)
		if _, dup := got[name]; dup {
			return check{detail: "duplicate account " + name}
		}
		got[name] = u
	}
	for _, e := range want {
		u, ok := got[e.UserName]
		if !ok {
			return check{detail: "missing " + e.UserName}
		}
		if id, _ := u.Attributes["externalId"].(string); id != e.ID {
			return check{detail: fmt.Sprintf("%s has externalId %q, not %q", e.UserName, id, e.ID)}
		}
	}
	if len(got) != len(want) {
		return check{detail: fmt.Sprintf("%d users, %d expected", len(got), len(want))}
	}
	if titles {
		for _, e := range want {
			if title, _ := got[e.UserName].Attributes["title"].(string); title != e.JobTitle {
				return check{detail: fmt.Sprintf("%s has title %q, not %q", e.UserName, title, e.JobTitle)}
			}
		}
	}
	return check{ok: true, detail: num(len(got)) + " users"}
}

// checkPatches checks that the incremental cycle sent one PATCH per changed
// user and nothing else that writes.
func checkPatches(s sampleapp.Stats, changed int) check {
	patch := s.Requests["PATCH /Users"]
	other := s.Requests["POST /Users"] + s.Requests["PUT /Users"] + s.Requests["DELETE /Users"]
	if patch != changed || other != 0 {
		return check{detail: fmt.Sprintf("%d PATCH /Users, %d other writes; want %d PATCH", patch, other, changed)}
	}
	return check{ok: true, detail: num(patch) + " PATCH /Users"}
}
