package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
)

// testToken is long and distinctive so a leak into an error is visible.
const testToken = "tok-3f9a1c7e-never-print-me"

// recorded is one request as the service received it.
type recorded struct {
	Method, Path, Query string
	Body                []byte
}

// recorder passes requests on and remembers them, unless paused.
type recorder struct {
	next   http.Handler
	paused atomic.Bool
	mu     sync.Mutex
	reqs   []recorded
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.paused.Load() {
		r.next.ServeHTTP(w, req)
		return
	}
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query().Get("filter"), Body: body})
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

// take returns the recorded requests with the given method (all for ""),
// and forgets every recorded request.
func (r *recorder) take(method string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.reqs {
		if method == "" || q.Method == method {
			out = append(out, q)
		}
	}
	r.reqs = nil
	return out
}

// env is a sample application behind a recorder and a client for it.
type env struct {
	app    *sampleapp.App
	rec    *recorder
	client *Client
	url    string
}

// setup starts a sample application and opens a client on it. wrap, when
// not nil, sits between the recorder and the application.
func setup(t testing.TB, opts sampleapp.Options, cfg Config, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	app := sampleapp.New(opts)
	var h http.Handler = app.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	rec := &recorder{next: h}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)

	t.Setenv("SCIM_TEST_TOKEN", testToken)
	cfg.BaseURL = ts.URL + "/scim/v2"
	if cfg.Token.IsZero() && cfg.Basic == nil && cfg.OAuth == nil {
		cfg.Token = secrets.Ref{Env: "SCIM_TEST_TOKEN"}
	}
	client := open(t, cfg)
	return &env{app: app, rec: rec, client: client, url: ts.URL}
}

func open(t testing.TB, cfg Config) *Client {
	t.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	client, err := cfg.Open(context.Background(), logrus.NewEntry(log))
	require.NoError(t, err)
	// Tests need not wait a real back-off when no Retry-After is given.
	client.http.RetryWaitMin = 5 * time.Millisecond
	t.Cleanup(func() { client.Close() })
	return client
}

// ctx is a context that ends with the test.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// connectorError asserts that err is a *connectors.Error itself, not
// wrapped, and returns it.
func connectorError(t *testing.T, err error) *connectors.Error {
	t.Helper()
	require.Error(t, err)
	ce, ok := err.(*connectors.Error)
	require.True(t, ok, "error %T %v is not a *connectors.Error", err, err)
	return ce
}

// decode parses a recorded JSON body.
func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), string(body))
	return m
}

// userByName returns the sample application's user with that userName.
func userByName(t *testing.T, app *sampleapp.App, name string) sampleapp.Resource {
	t.Helper()
	for _, u := range app.Users() {
		if u.Attributes["userName"] == name {
			return u
		}
	}
	t.Fatalf("no user %q", name)
	return sampleapp.Resource{}
}
