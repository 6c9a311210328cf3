package sampleapp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/elimity-com/scim"
)

// seeded returns an App holding n users, inserted straight into the store.
func seeded(b *testing.B, n int) *App {
	b.Helper()
	app := New(Options{})
	for i := range n {
		_, err := app.users.tbl.insert(scim.ResourceAttributes{
			"userName":   fmt.Sprintf("user%06d@example.com", i),
			"externalId": fmt.Sprintf("ext%06d", i),
			"active":     true,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return app
}

// BenchmarkQueryAt100k measures the filter queries provisioning clients send
// against 100,000 users, through the full HTTP handler.
//
//	go test -run '^$' -bench QueryAt100k ./sampleapp/
func BenchmarkQueryAt100k(b *testing.B) {
	app := seeded(b, 100_000)
	h := app.Handler()
	for _, filter := range []string{
		`userName eq "user054321@example.com"`,
		`externalId eq "ext054321"`,
		`userName eq "absent"`,
	} {
		target := "/scim/v2/Users?filter=" + url.QueryEscape(filter)
		b.Run(filter, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkAddMembers100k adds 100,000 users to one group, 100 per PATCH,
// the way a client batches membership changes. One iteration takes seconds:
//
//	go test -run '^$' -bench AddMembers100k -benchtime 1x ./sampleapp/
func BenchmarkAddMembers100k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		app := seeded(b, 100_000)
		h := app.Handler()
		group, err := app.groups.tbl.insert(scim.ResourceAttributes{"displayName": "Everyone"})
		if err != nil {
			b.Fatal(err)
		}
		users := app.users.tbl.all()
		b.StartTimer()
		for i := 0; i < len(users); i += 100 {
			var values []string
			for _, u := range users[i:min(i+100, len(users))] {
				values = append(values, `{"value":"`+u.id+`"}`)
			}
			body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[` + strings.Join(values, ",") + `]}]}`
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, "/scim/v2/Groups/"+group.id, strings.NewReader(body)))
			if rec.Code != http.StatusNoContent {
				b.Fatal(rec.Code, rec.Body.String())
			}
		}
	}
}
