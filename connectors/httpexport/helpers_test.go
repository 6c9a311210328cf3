package httpexport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/httpexport"
	"github.com/openprovisioning/provisioner/connectors/scim"
	"github.com/openprovisioning/provisioner/secrets"
)

// reportServer serves a report over HTTPS on loopback, as a Workday or
// SuccessFactors tenant does: behind basic authentication or a bearer
// token from its OAuth token endpoint, with ETag or Last-Modified
// validators, answering conditional requests 304.
type reportServer struct {
	srv    *httptest.Server
	caFile string

	mu           sync.Mutex
	body         []byte
	contentType  string
	etag         string
	lastModified string
	// answer, when set, answers the report's requests instead.
	answer func(w http.ResponseWriter, r *http.Request)
	// user and password are the basic credentials; clientID and secret
	// the OAuth client's, token the bearer token it gets.
	user, password          string
	clientID, secret, token string
	// requests are the report requests received (their headers), tokens
	// the token requests.
	requests []http.Header
	statuses []int
	tokens   int
}

func newReportServer(t *testing.T) *reportServer {
	t.Helper()
	s := &reportServer{user: "ISU_HR@acme", password: "hr-password-1", clientID: "provisioning", secret: "client-secret-1", token: "bearer-token-1"}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// set replaces the report.
func (s *reportServer) set(contentType, body, etag, lastModified string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contentType, s.body, s.etag, s.lastModified = contentType, []byte(body), etag, lastModified
}

func (s *reportServer) setAnswer(f func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = f
}

// seen returns the report requests so far and their answers' statuses.
func (s *reportServer) seen() ([]http.Header, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.requests...), append([]int(nil), s.statuses...)
}

func (s *reportServer) tokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

func (s *reportServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/oauth/token" {
		s.tokens++
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		if r.FormValue("grant_type") != "client_credentials" || id != s.clientID || secret != s.secret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": s.token, "token_type": "Bearer", "expires_in": 3600})
		return
	}
	s.requests = append(s.requests, r.Header.Clone())
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.report(rec, r)
	s.statuses = append(s.statuses, rec.status)
}

func (s *reportServer) report(w http.ResponseWriter, r *http.Request) {
	user, password, basic := r.BasicAuth()
	bearer := r.Header.Get("Authorization") == "Bearer "+s.token
	if !bearer && (!basic || user != s.user || password != s.password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="report"`)
		http.Error(w, "Invalid user name or password", http.StatusUnauthorized)
		return
	}
	if s.answer != nil {
		s.answer(w, r)
		return
	}
	if s.etag != "" {
		w.Header().Set("ETag", s.etag)
	} else if s.lastModified != "" {
		w.Header().Set("Last-Modified", s.lastModified)
	}
	if (s.etag != "" && r.Header.Get("If-None-Match") == s.etag) ||
		(s.etag == "" && s.lastModified != "" && r.Header.Get("If-Modified-Since") == s.lastModified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", s.contentType)
	w.Write(s.body)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Hijack lets an answer cut its connection.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return r.ResponseWriter.(http.Hijacker).Hijack()
}

// config is a report source of s at path, with basic authentication whose
// password is in the environment variable env.
func (s *reportServer) config(t *testing.T, path, env string) httpexport.Config {
	t.Helper()
	t.Setenv(env, s.password)
	c := httpexport.Config{URL: s.srv.URL + path, CAFile: s.caFile}
	c.Basic = basic(s.user, env)
	c.IDColumn = "Employee_ID"
	c.MaxRetries = 1
	return c
}

func open(t *testing.T, c httpexport.Config) *httpexport.Source {
	t.Helper()
	src, err := c.Open(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// workers is a Workday report of n workers, as RaaS answers format=json.
func workers(n int, rename map[string]string) string {
	var entries []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("21%03d", i)
		name := fmt.Sprintf("Worker %d", i)
		if r, ok := rename[id]; ok {
			name = r
		}
		entries = append(entries, fmt.Sprintf(`{"Employee_ID":%q,"Legal_Name":%q,"Email":"w%d@acme.example","Active":"1"}`, id, name, i))
	}
	return `{"Report_Entry":[` + strings.Join(entries, ",") + `]}`
}

// readAll reads every page of a read given since and returns the objects
// and the last page.
func readAll(t *testing.T, src connectors.Source, since string) ([]connectors.Object, connectors.Page) {
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

func basic(user, env string) *scim.BasicAuth {
	return &scim.BasicAuth{Username: user, Password: secrets.Ref{Env: env}}
}
