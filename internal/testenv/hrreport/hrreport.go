// Package hrreport serves an HR report over HTTPS on loopback for tests, as
// a Workday tenant serves a report-as-a-service: behind HTTP basic
// authentication or a bearer token from its OAuth 2.0 token endpoint
// (client credentials), with an ETag or a Last-Modified date, answering a
// conditional request for the same version 304 Not Modified.
package hrreport

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Server is a running report server.
type Server struct {
	// URL is the server's base; the report is at any path but TokenPath.
	URL string
	// CAFile holds the server's certificate (PEM).
	CAFile string
	// User and Password are the basic credentials it accepts; ClientID
	// and ClientSecret the OAuth client's, which gets Token.
	User, Password, ClientID, ClientSecret, Token string

	mu           sync.Mutex
	body         []byte
	contentType  string
	etag         string
	lastModified string
	answer       http.HandlerFunc
	requests     []Request
	tokens       int
}

// TokenPath is the path of the OAuth token endpoint.
const TokenPath = "/oauth/token"

// Request is a report request the server received and its answer's status.
type Request struct {
	Header http.Header
	Status int
}

// Start starts a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{User: "ISU_HR@acme", Password: "hr-password-1", ClientID: "provisioning", ClientSecret: "client-secret-1", Token: "bearer-token-1"}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// A cut connection is the test's doing, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.CAFile = filepath.Join(t.TempDir(), "report-ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Set replaces the report and its validators (either may be empty).
func (s *Server) Set(contentType, body, etag, lastModified string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contentType, s.body, s.etag, s.lastModified, s.answer = contentType, []byte(body), etag, lastModified, nil
}

// Answer makes f answer the report's authorized requests instead, until
// the next Set.
func (s *Server) Answer(f http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = f
}

// Requests returns the report requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// TokenRequests counts the token endpoint's requests.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == TokenPath {
		s.tokens++
		s.issueToken(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.report(rec, r)
	s.requests = append(s.requests, Request{Header: r.Header.Clone(), Status: rec.status})
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if r.FormValue("grant_type") != "client_credentials" || id != s.ClientID || secret != s.ClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": s.Token, "token_type": "Bearer", "expires_in": 3600})
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	user, password, basic := r.BasicAuth()
	bearer := r.Header.Get("Authorization") == "Bearer "+s.Token
	if !bearer && (!basic || user != s.User || password != s.Password) {
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

// recorder keeps an answer's status; it can still be hijacked to cut the
// connection.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return r.ResponseWriter.(http.Hijacker).Hijack()
}

// Workers is a Workday report of n workers (IDs 21001 on), as RaaS answers
// format=json: Employee_ID, Legal_Name, Email, Active ("1"); rename gives
// some workers other names, gone leaves some out.
func Workers(n int, rename map[string]string, gone ...string) string {
	var entries []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("21%03d", i)
		if slices.Contains(gone, id) {
			continue
		}
		name := fmt.Sprintf("Worker %d", i)
		if r, ok := rename[id]; ok {
			name = r
		}
		entries = append(entries, fmt.Sprintf(`{"Employee_ID":%q,"Legal_Name":%q,"Email":"w%d@acme.example","Active":"1"}`, id, name, i))
	}
	return `{"Report_Entry":[` + strings.Join(entries, ",") + `]}`
}
