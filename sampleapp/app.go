// Package sampleapp is a SCIM 2.0 application for demos, tests and
// benchmarks: Users (with the enterprise extension) and Groups held in
// memory, served under /scim/v2 by the github.com/elimity-com/scim library,
// plus a small web page at / that lists them.
//
// The store indexes the attributes provisioning clients query by (id,
// userName, externalId, displayName), so lookups stay map lookups at 100,000
// users. It accepts both RFC 7644 PATCH and the Azure dialect (capitalised
// ops, "True"/"False" strings for booleans, path-less replace with dotted
// keys, member removal by value list).
package sampleapp

import (
	"net/http"
	"sync"
	"time"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
)

// Options configure an App.
type Options struct {
	// Token is the bearer token clients must send. Empty disables
	// authentication.
	Token string
	// BaseURL is the absolute URL of /scim/v2, for meta.location and
	// Location headers; empty makes them relative.
	BaseURL string
	// MaxResults caps the resources in one list response; 0 means 1000.
	MaxResults int
	// FaultRate is the share of SCIM requests (0..1) answered 503 or 429
	// with Retry-After instead of being processed.
	FaultRate float64
	// FaultSeed seeds the fault sequence, so a run can be repeated.
	FaultSeed uint64
	// RetryAfter is sent with injected faults, rounded up to whole seconds;
	// zero sends "0" (retry at once).
	RetryAfter time.Duration
	// Now is the clock for meta.created and meta.lastModified; nil means
	// time.Now. Tests of delta reads set it.
	Now func() time.Time
}

// App is one sample SCIM application with its own store.
type App struct {
	opts    Options
	users   *resourceHandler
	groups  *resourceHandler
	stats   *counters
	faults  *faults
	handler http.Handler
}

// Resource is a snapshot of a stored User or Group.
type Resource struct {
	ID string
	// Attributes are the resource's attributes as a client reads them,
	// without id and meta; the enterprise extension is nested under its URN.
	Attributes   map[string]any
	Created      time.Time
	LastModified time.Time
}

// The library reads booleans sent as strings only when this package-wide
// switch is on; Azure sends "True"/"False".
var allowStringValues sync.Once

// New returns an App with an empty store.
func New(opts Options) *App {
	allowStringValues.Do(func() { schema.SetAllowStringValues(true) })
	if opts.MaxResults <= 0 {
		opts.MaxResults = 1000
	}
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	now := func() time.Time { return clock().UTC() }

	a := &App{opts: opts, stats: newCounters()}
	if opts.FaultRate > 0 {
		a.faults = newFaults(opts.FaultRate, opts.FaultSeed, opts.RetryAfter)
	}
	a.users = &resourceHandler{
		kind:    userKind,
		patcher: newPatcher(userKind),
		tbl: newTable(now,
			&index{attr: "userName", fold: true, unique: true},
			&index{attr: "externalId"},
			&index{attr: "displayName", fold: true},
		),
	}
	a.groups = &resourceHandler{
		kind:    groupKind,
		patcher: newPatcher(groupKind),
		tbl: newTable(now,
			&index{attr: "displayName", fold: true},
			&index{attr: "externalId"},
		),
		emptyPatchReply: true,
	}
	a.users.onDelete = a.groups.removeMember

	server, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: serviceProviderConfig(opts.MaxResults),
		ResourceTypes: []scim.ResourceType{
			userKind.resourceType(a.users),
			groupKind.resourceType(a.groups),
		},
	}, scim.WithBaseURL(opts.BaseURL))
	if err != nil {
		// Only missing arguments make NewServer fail; both are set above.
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/", a.withStats(a.withAuth(a.withFaults(http.StripPrefix("/scim", server)))))
	mux.HandleFunc("GET /{$}", a.serveIndex)
	a.handler = mux
	return a
}

// Handler serves SCIM under /scim/v2 and the web page at /.
func (a *App) Handler() http.Handler { return a.handler }

// Stats returns the request counters and the store's size.
func (a *App) Stats() Stats {
	s := a.stats.snapshot()
	s.Users, s.Groups = a.users.tbl.len(), a.groups.tbl.len()
	return s
}

// ResetStats zeroes the request counters (benchmarks reset between phases).
func (a *App) ResetStats() { a.stats.reset() }

// Users returns every user in creation order.
func (a *App) Users() []Resource { return snapshot(a.users.tbl) }

// Groups returns every group in creation order.
func (a *App) Groups() []Resource { return snapshot(a.groups.tbl) }

func snapshot(t *table) []Resource {
	recs := t.all()
	out := make([]Resource, len(recs))
	for i, r := range recs {
		out[i] = Resource{ID: r.id, Attributes: deepCopy(r.attrs), Created: r.created, LastModified: r.modified}
	}
	return out
}
