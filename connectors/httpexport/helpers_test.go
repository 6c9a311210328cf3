package httpexport_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/httpexport"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/internal/testenv/hrreport"
	"github.com/openprovisioning/provisioner/secrets"
)

// reportConfig is a report source of s at path, with basic authentication whose
// password is in the environment variable env.
func reportConfig(t testing.TB, s *hrreport.Server, path, env string) httpexport.Config {
	t.Helper()
	t.Setenv(env, s.Password)
	c := httpexport.Config{URL: s.URL + path, CAFile: s.CAFile}
	c.Basic = basic(s.User, env)
	c.IDColumn = "Employee_ID"
	c.MaxRetries = 1
	return c
}

func basic(user, env string) *scim.BasicAuth {
	return &scim.BasicAuth{Username: user, Password: secrets.Ref{Env: env}}
}

func open(t testing.TB, c httpexport.Config) *httpexport.Source {
	t.Helper()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	src, err := c.Open(context.Background(), logrus.NewEntry(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// seen returns the headers of the report requests so far and their
// answers' statuses.
func seen(s *hrreport.Server) ([]http.Header, []int) {
	var headers []http.Header
	var statuses []int
	for _, r := range s.Requests() {
		headers = append(headers, r.Header)
		statuses = append(statuses, r.Status)
	}
	return headers, statuses
}

// readAll reads every page of a read given since and returns the objects
// and the last page.
func readAll(t testing.TB, src connectors.Source, since string) ([]connectors.Object, connectors.Page) {
	t.Helper()
	var objs []connectors.Object
	req := connectors.ReadRequest{Type: connectors.User, Since: since, PageSize: 2}
	for {
		page, err := src.Read(context.Background(), req)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		objs = append(objs, page.Objects...)
		if page.Cursor == "" {
			return objs, page
		}
		req.Cursor = page.Cursor
	}
}
