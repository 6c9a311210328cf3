package httpexport

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/cacerts"
)

// userAgent says who asks, for the report server's logs.
const userAgent = "openprovisioning-report/1"

// credentials set a request's Authorization header.
type credentials struct {
	authorize func(*http.Request) error
	// secrets must never appear in an error or a log.
	secrets []string
}

// tokenError is a failure to obtain a bearer token: the endpoint refused
// the client, or could not be reached. It is not retried by the report's
// client, which would ask the endpoint again for every try.
type tokenError struct {
	err     error
	refused bool
}

func (e *tokenError) Error() string { return "obtaining an access token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// resolve reads the secrets the configuration names. tokens calls the
// OAuth token endpoint.
func (c Config) resolve(tokens *http.Client) (credentials, error) {
	switch {
	case c.Basic != nil:
		password, err := c.Basic.Password.Resolve()
		if err != nil {
			return credentials{}, fmt.Errorf("basic.password: %w", err)
		}
		encoded := base64.StdEncoding.EncodeToString([]byte(c.Basic.Username + ":" + password))
		return credentials{
			authorize: func(r *http.Request) error {
				r.Header.Set("Authorization", "Basic "+encoded)
				return nil
			},
			secrets: []string{password, encoded},
		}, nil
	case c.OAuth != nil:
		secret, err := c.OAuth.ClientSecret.Resolve()
		if err != nil {
			return credentials{}, fmt.Errorf("oauth.clientSecret: %w", err)
		}
		cc := clientcredentials.Config{ClientID: c.OAuth.ClientID, ClientSecret: secret, TokenURL: c.OAuth.TokenURL, Scopes: c.OAuth.Scopes}
		// The token source outlives any one read: it gets its own
		// context, and the token client's timeout bounds each request.
		src := cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, tokens))
		return credentials{
			authorize: func(r *http.Request) error {
				tok, err := src.Token()
				if err != nil {
					var re *oauth2.RetrieveError
					return &tokenError{err: err, refused: errors.As(err, &re)}
				}
				tok.SetAuthHeader(r)
				return nil
			},
			secrets: []string{secret},
		}, nil
	}
	return credentials{authorize: func(*http.Request) error { return nil }}, nil
}

// authorizing sets the credentials on every try of a request, retries
// included.
type authorizing struct {
	base      http.RoundTripper
	authorize func(*http.Request) error
}

func (t *authorizing) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the caller's request.
	req = req.Clone(req.Context())
	if err := t.authorize(req); err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	return t.base.RoundTrip(req)
}

// transport is the TLS-only transport of the report and token requests.
func (c Config) transport(timeout time.Duration) (*http.Transport, error) {
	roots, err := cacerts.Pool(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("caFile: %w", err)
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
	}, nil
}

// newClient is the retrying client of the report's requests.
func newClient(base http.RoundTripper, creds credentials, maxRetries int) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: &authorizing{base: base, authorize: creds.authorize},
			// A redirect would take the credentials elsewhere, and a report
			// that redirects is most often sending a login page.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: time.Second,
		RetryWaitMax: 30 * time.Second,
		RetryMax:     maxRetries,
		CheckRetry:   checkRetry,
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
}

// checkRetry retries connection errors, 429 and 5xx but 501; a token that
// cannot be had is not asked for again here.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	var te *tokenError
	if errors.As(err, &te) {
		return false, err
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// kindForStatus classifies a non-2xx answer.
func kindForStatus(status int) connectors.Kind {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		// The report is refused to these credentials as a whole: the job
		// waits in quarantine for an operator.
		return connectors.KindUnauthorized
	case http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed:
		// Answered alike until the configuration changes (a wrong report
		// name). Not NotFound: that would say a record is missing.
		return connectors.KindInvalidRequest
	case http.StatusNotImplemented:
		return connectors.KindServerError
	}
	if status < 300 {
		return connectors.KindInvalidRequest
	}
	return connectors.HTTPStatusKind(status)
}

// redact removes secrets from text that may echo them.
func (o *origin) redact(s string) string {
	return connectors.Redact(s, o.secrets)
}
