// Package scimdir is a directory that speaks SCIM, for tests of delta
// reads: the project's sample application, whose clock the test sets, so
// that meta.lastModified holds the times the test chooses.
package scimdir

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

// Dir is a running directory.
type Dir struct {
	// Config connects a job's source to it.
	Config *scim.Config
	// Admin changes its users and groups.
	Admin *scim.Client

	mu  sync.Mutex
	now time.Time
}

// Start starts a directory whose clock stands at now, until the test
// ends. Its token is put in the environment variable tokenEnv.
func Start(t *testing.T, tokenEnv string, now time.Time) *Dir {
	t.Helper()
	d := &Dir{now: now}
	t.Setenv(tokenEnv, "directory-token")
	app := sampleapp.New(sampleapp.Options{Token: "directory-token", Now: d.clock})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	d.Config = &scim.Config{BaseURL: srv.URL + "/scim/v2", Token: secrets.Ref{Env: tokenEnv}}
	var err error
	if d.Admin, err = d.Config.Open(context.Background(), logrus.NewEntry(logrus.New())); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *Dir) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

// Advance moves the directory's clock forward.
func (d *Dir) Advance(by time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = d.now.Add(by)
}

// Group is a group to create, with the names of its members: users, or
// groups created before it.
type Group struct {
	Name    string
	Members []string
}

// Create creates users (userName name@example.com) and groups, and
// returns their IDs by name.
func (d *Dir) Create(t *testing.T, users []string, groups ...Group) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	for _, name := range users {
		id, err := d.Admin.Create(ctx, connectors.User, connectors.Attributes{"userName": name + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	for _, g := range groups {
		id, err := d.Admin.Create(ctx, connectors.Group, connectors.Attributes{"displayName": g.Name})
		if err != nil {
			t.Fatal(err)
		}
		ids[g.Name] = id
		members := make([]string, len(g.Members))
		for i, m := range g.Members {
			members[i] = ids[m]
		}
		if err := d.Admin.AddMembers(ctx, id, members); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}
