// Package graphapi is a Microsoft Graph-compatible server for tests of the
// Entra ID source, served over TLS on loopback: the Microsoft identity
// platform's token endpoint for client credentials (a client secret or a
// signed client assertion), users and groups read by delta queries
// (@odata.nextLink pages, @odata.deltaLink, @removed with reason changed
// or deleted, members@delta and manager@delta, $select, page sizes by
// Prefer: odata.maxpagesize), objects and member lists by ID, a service
// principal's app roles and appRoleAssignedTo, throttling (429 with
// Retry-After) on demand, and delta tokens that expire. It follows the
// shapes Microsoft documents for these calls; no Graph service can be
// reached from the tests.
package graphapi

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Server is a running Graph-compatible server.
type Server struct {
	// URL is the identity platform's authority (the token endpoint is
	// URL/{tenant}/oauth2/v2.0/token); GraphURL is Graph's v1.0 base.
	URL, GraphURL string
	// Client trusts the server's certificate.
	Client *http.Client
	// Tenant, ClientID and Secret are the credentials it accepts.
	Tenant, ClientID, Secret string
	// CertificatePEM is a certificate registered with the application and
	// its private key, to sign client assertions with.
	CertificatePEM string

	srv *httptest.Server
	pub *rsa.PublicKey
	// thumbprint is the registered certificate's x5t.
	thumbprint string

	mu       sync.Mutex
	version  int64
	users    map[string]*object
	groups   map[string]*object
	tokens   map[string]time.Time // access token → expiry
	sessions map[string]*session
	// expiredBelow makes delta tokens of earlier versions unknown.
	expiredBelow int64
	throttle     int
	retryAfter   int
	stats        Stats
	app          application
	tokenLife    time.Duration
}

// Stats counts what the server was asked.
type Stats struct {
	// Tokens counts access tokens issued.
	Tokens int
	// Requests counts Graph requests by method and path pattern
	// ("GET /users/delta"), throttled ones included.
	Requests map[string]int
	// Throttled counts 429 answers; Early counts requests that came
	// before the Retry-After of the last 429 was over.
	Throttled, Early int
	throttledUntil   time.Time
}

// object is a user or a group with its change history.
type object struct {
	id    string
	props map[string]any
	// changed is the version of the last change; removed is set once
	// deleted, with the reason Graph gives ("changed" for a soft delete).
	changed int64
	removed string
	// manager is a user's manager's ID.
	manager string
	// members are a group's member IDs, and memberLog their changes.
	members   []string
	memberLog []memberChange
}

type memberChange struct {
	version int64
	id      string
	added   bool
}

// application is the provisioned application's service principal.
type application struct {
	servicePrincipal string
	roles            []AppRole
	assignments      []Assignment
}

// AppRole is one of the application's roles.
type AppRole struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	DisplayName string `json:"displayName"`
}

// Assignment assigns a user or a group to the application with a role.
type Assignment struct {
	ID            string `json:"id"`
	AppRoleID     string `json:"appRoleId"`
	PrincipalID   string `json:"principalId"`
	PrincipalType string `json:"principalType"` // User or Group
}

// Start starts a server until Close; tenant is the directory's ID.
func Start(tenant string) (*Server, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	cert, err := selfSigned(key)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Tenant: tenant, ClientID: NewID(), Secret: "s3cr3t~" + NewID(),
		pub: &key.PublicKey, thumbprint: thumbprint(cert),
		users: map[string]*object{}, groups: map[string]*object{},
		tokens: map[string]time.Time{}, sessions: map[string]*session{},
		stats:     Stats{Requests: map[string]int{}},
		tokenLife: time.Hour,
		app:       application{servicePrincipal: NewID()},
	}
	s.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.GraphURL = s.srv.URL + "/v1.0"
	s.Client = s.srv.Client()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// TLSCertificate is the server's TLS certificate in PEM, for clients to
// trust.
func (s *Server) TLSCertificate() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// NewID returns a random object ID (a GUID).
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Stats returns what the server was asked so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = map[string]int{}
	for k, v := range s.stats.Requests {
		st.Requests[k] = v
	}
	return st
}

// ResetStats forgets the counts.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Requests: map[string]int{}}
}

// Throttle answers the next n Graph requests with 429 Too Many Requests
// and Retry-After: seconds.
func (s *Server) Throttle(n, seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryAfter = n, seconds
}

// ExpireDeltaTokens makes every delta and skip token issued so far
// unknown, as Graph forgets tokens it kept too long: their next use is
// answered 410 Gone with syncStateNotFound.
func (s *Server) ExpireDeltaTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.expiredBelow = s.version
	s.sessions = map[string]*session{}
}

// SetTokenLifetime sets the expires_in of the access tokens issued next.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLife = d
}

// ServicePrincipal is the object ID of the application's service principal.
func (s *Server) ServicePrincipal() string { return s.app.servicePrincipal }
