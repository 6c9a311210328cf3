package graphapi

import (
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is the SHA-1 thumbprint
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// defaultPageSize is the page size without Prefer: odata.maxpagesize.
const defaultPageSize = 100

func selfSigned(key *rsa.PrivateKey) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "provisioning test application"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	return x509.CreateCertificate(nil, tmpl, tmpl, &key.PublicKey, key)
}

func thumbprint(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // see the import
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// graphError answers with Graph's error shape.
func graphError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": NewID(), "client-request-id": NewID()},
	}})
}

// tokenError answers with the identity platform's error shape.
func tokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{
		"error": code, "error_description": description + "\r\nTrace ID: " + NewID() + "\r\nCorrelation ID: " + NewID() + "\r\nTimestamp: " + time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"error_codes": []int{errorCode(description)}, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id": NewID(), "correlation_id": NewID(),
	})
}

func errorCode(description string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(description, ":", 2)[0], "AADSTS"))
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.token(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0")
	if !ok || r.Method != http.MethodGet {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid version or method.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests["GET "+pattern(path)]++
	now := time.Now()
	if now.Before(s.stats.throttledUntil) {
		s.stats.Early++
	}
	if s.throttle > 0 {
		s.throttle--
		s.stats.Throttled++
		s.stats.throttledUntil = now.Add(time.Duration(s.retryAfter) * time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfter))
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if exp, ok := s.tokens[tok]; !ok || now.After(exp) {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or has expired.")
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "directory" && parts[1] == "deletedItems":
		s.deletedItems(w, r, parts[2])
	case len(parts) == 1 && (parts[0] == "users" || parts[0] == "groups"):
		s.list(w, r, parts[0])
	case len(parts) == 2 && parts[1] == "delta" && (parts[0] == "users" || parts[0] == "groups"):
		s.delta(w, r, parts[0])
	case len(parts) == 2 && (parts[0] == "users" || parts[0] == "groups"):
		s.getObject(w, r, parts[0], parts[1])
	case len(parts) >= 3 && parts[0] == "groups":
		s.listMembers(w, r, parts[1], strings.Join(parts[2:], "/"))
	case len(parts) == 2 && parts[0] == "servicePrincipals":
		s.servicePrincipal(w, parts[1])
	case len(parts) == 3 && parts[0] == "servicePrincipals" && parts[2] == "appRoleAssignedTo":
		s.assignedTo(w, r, parts[1])
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+parts[len(parts)-1]+"'.")
	}
}

// pattern names a request for Stats, without object IDs.
func pattern(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 1 && parts[1] != "delta" {
		parts[1] = "{id}"
	}
	return "/" + strings.Join(parts, "/")
}

// token is the v2.0 token endpoint's client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	f := r.PostForm
	switch {
	case !strings.EqualFold(tenant, s.Tenant):
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	case f.Get("grant_type") != "client_credentials":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
		return
	case f.Get("client_id") != s.ClientID:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+f.Get("client_id")+"' was not found in the directory.")
		return
	case !strings.HasSuffix(f.Get("scope"), "/.default"):
		tokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
		return
	}
	if a := f.Get("client_assertion"); a != "" || f.Get("client_assertion_type") != "" {
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS50027: Invalid JWT token: the client_assertion_type is not supported.")
			return
		}
		if problem := s.checkAssertion(a, "https://"+r.Host+r.URL.Path); problem != "" {
			tokenError(w, http.StatusUnauthorized, "invalid_client", problem)
			return
		}
	} else if f.Get("client_secret") != s.Secret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "eyJ0eXAiOiJKV1Qi." + NewID()
	s.tokens[tok] = time.Now().Add(s.tokenLife)
	s.stats.Tokens++
	life := int(s.tokenLife / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok})
}

// checkAssertion checks a client assertion as the identity platform does:
// RS256 by the registered certificate (x5t), the application as issuer and
// subject, the token endpoint as audience, not expired.
func (s *Server) checkAssertion(assertion, audience string) string {
	tok, err := jwt.ParseWithClaims(assertion, &jwt.RegisteredClaims{}, func(t *jwt.Token) (any, error) {
		if t.Header["x5t"] != s.thumbprint {
			return nil, fmt.Errorf("the x5t is not the thumbprint of a certificate registered with the application")
		}
		return s.pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(audience), jwt.WithIssuer(s.ClientID), jwt.WithSubject(s.ClientID), jwt.WithExpirationRequired())
	if err != nil || !tok.Valid {
		return "AADSTS700027: Client assertion failed signature validation or its claims are wrong: " + fmt.Sprint(err)
	}
	return ""
}
