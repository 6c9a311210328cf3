package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/openprovisioning/provisioner/store"
	"github.com/openprovisioning/provisioner/store/postgres"
	"github.com/openprovisioning/provisioner/store/sqlite"
)

// openStore opens the state store named by spec: a PostgreSQL URL
// (postgres://…), shared by workers on several machines, or else the path
// of the embedded SQLite file. It also returns how to name the store in
// logs: a URL's password never appears.
func openStore(ctx context.Context, spec string) (store.Store, string, error) {
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		st, err := postgres.Open(ctx, spec)
		return st, safeURL(spec), err
	}
	st, err := sqlite.Open(spec)
	return st, spec, err
}

// safeURL is a database URL without its user information and parameters.
func safeURL(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
