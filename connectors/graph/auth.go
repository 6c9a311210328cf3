package graph

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as the SHA-1 thumbprint
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/openprovisioning/provisioner/connectors"
)

// clientAssertionType is the RFC 7523 client authentication the Microsoft
// identity platform takes with a certificate.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a signed client assertion is valid: it is
// used once, at once.
const assertionLifetime = 5 * time.Minute

// tokenEarly renews a cached access token this long before it expires, so
// a page read with it does not fail halfway.
const tokenEarly = 5 * time.Minute

// certificate is a registered certificate and its private key.
type certificate struct {
	key *rsa.PrivateKey
	// thumbprint is the certificate's SHA-1 digest, base64url (x5t).
	thumbprint string
}

// parseCertificate reads a PEM bundle of one certificate and its RSA
// private key (PKCS #1 or #8), in either order.
func parseCertificate(bundle string) (certificate, error) {
	var c certificate
	var cert *x509.Certificate
	rest := []byte(bundle)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			if cert == nil {
				parsed, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return c, fmt.Errorf("the certificate cannot be read: %v", err)
				}
				cert = parsed
			}
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return c, errors.New("the RSA private key cannot be read")
			}
			c.key = k
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return c, errors.New("the private key cannot be read")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return c, errors.New("the private key is not an RSA key: the Microsoft identity platform takes RS256 assertions")
			}
			c.key = rk
		}
	}
	switch {
	case cert == nil:
		return c, errors.New("holds no PEM certificate")
	case c.key == nil:
		return c, errors.New("holds no PEM private key")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&c.key.PublicKey) {
		return c, errors.New("the private key is not the certificate's")
	}
	sum := sha1.Sum(cert.Raw) //nolint:gosec // see the import
	c.thumbprint = base64.RawURLEncoding.EncodeToString(sum[:])
	return c, nil
}

// assertion signs a client assertion for the token endpoint: the
// application is issuer and subject, the endpoint the audience.
func (c certificate) assertion(clientID, audience string, now time.Time) (string, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    clientID,
		Subject:   clientID,
		Audience:  jwt.ClaimStrings{audience},
		ID:        hex.EncodeToString(id),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(assertionLifetime)),
	})
	tok.Header["x5t"] = c.thumbprint
	return tok.SignedString(c.key)
}

// tokenSource asks the tenant's token endpoint for Graph access tokens
// with the client credentials grant; oauth2.ReuseTokenSource caches them.
type tokenSource struct {
	http     *http.Client
	url      string
	clientID string
	scope    string
	secret   string       // client secret, or
	cert     *certificate // the certificate that signs assertions
}

// tokenAnswer is the endpoint's JSON answer, a token or an error.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Token requests a new access token.
func (s *tokenSource) Token() (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.clientID}, "scope": {s.scope}}
	if s.cert != nil {
		a, err := s.cert.assertion(s.clientID, s.url, time.Now())
		if err != nil {
			return nil, fmt.Errorf("signing the client assertion: %w", err)
		}
		form.Set("client_assertion_type", clientAssertionType)
		form.Set("client_assertion", a)
	} else {
		form.Set("client_secret", s.secret)
	}
	resp, err := s.http.PostForm(s.url, form)
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", s.url, err)
	}
	var a tokenAnswer
	jsonErr := json.Unmarshal(raw, &a)
	if resp.StatusCode != http.StatusOK {
		if jsonErr == nil && a.Error != "" {
			// The endpoint answered and refused: retrying will not help.
			if resp.StatusCode >= 400 && resp.StatusCode < 500 {
				return nil, &authError{status: resp.StatusCode, code: a.Error, detail: firstLine(a.Description)}
			}
			return nil, fmt.Errorf("token endpoint %s: %d %s: %s", s.url, resp.StatusCode, a.Error, firstLine(a.Description))
		}
		return nil, fmt.Errorf("token endpoint %s: HTTP %d", s.url, resp.StatusCode)
	}
	if jsonErr != nil || a.AccessToken == "" || !strings.EqualFold(a.TokenType, "Bearer") {
		return nil, fmt.Errorf("token endpoint %s: the answer holds no bearer token", s.url)
	}
	tok := &oauth2.Token{AccessToken: a.AccessToken, TokenType: "Bearer"}
	if a.ExpiresIn > 0 {
		life := time.Duration(a.ExpiresIn) * time.Second
		// Renewed early, but never before half its life.
		tok.Expiry = time.Now().Add(max(life-tokenEarly, life/2))
	}
	return tok, nil
}

// authError is a refusal from the token endpoint (invalid_client, an
// unknown tenant): the credentials are wrong, and retrying will not help.
type authError struct {
	status int
	code   string
	detail string
}

func (e *authError) Error() string {
	return fmt.Sprintf("the token endpoint refused the credentials: %s: %s", e.code, e.detail)
}

// firstLine keeps the first line of an identity platform message, which
// goes on with trace and correlation IDs.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	line, _, _ = strings.Cut(line, "\n")
	return line
}

// newTokens returns the cached token source of the configuration's
// credentials, and the strings that must never be logged.
func (c Config) newTokens(client *http.Client) (oauth2.TokenSource, []string, error) {
	s := &tokenSource{http: client, url: c.tokenURL(), clientID: c.ClientID, scope: c.scope()}
	if !c.Certificate.IsZero() {
		bundle, err := c.Certificate.Resolve()
		if err != nil {
			return nil, nil, connectors.SecretProblem("certificate", err)
		}
		cert, err := parseCertificate(bundle)
		if err != nil {
			return nil, nil, connectors.Invalid("certificate", "%v (%s)", err, c.Certificate)
		}
		s.cert = &cert
		return oauth2.ReuseTokenSource(nil, s), nil, nil
	}
	secret, err := c.ClientSecret.Resolve()
	if err != nil {
		return nil, nil, connectors.SecretProblem("clientSecret", err)
	}
	s.secret = secret
	return oauth2.ReuseTokenSource(nil, s), []string{secret, url.QueryEscape(secret)}, nil
}

// authorizing is an http.RoundTripper that sets the bearer token.
type authorizing struct {
	base   http.RoundTripper
	tokens oauth2.TokenSource
}

func (t *authorizing) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.tokens.Token()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	tok.SetAuthHeader(req)
	return t.base.RoundTrip(req)
}
