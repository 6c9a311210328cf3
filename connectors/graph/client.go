// Package graph is a source connector for Microsoft Entra ID, read through
// Microsoft Graph REST v1.0 with the OAuth 2.0 client credentials of an
// application (a client secret or a certificate). Users and groups are
// read with delta queries: the first read of a job is a full one through
// /delta, its @odata.deltaLink is the watermark, and later reads return
// what changed, deletions (@removed) included. Attributes carry Azure's
// source names (objectId, mobile, telephoneNumber, manager,
// extension_{appId}_name, appRoleAssignments), so a synchronization schema
// exported from Azure reads them unchanged.
//
// Throttling (429 and 503 with Retry-After) pauses every connection of the
// process to the same tenant, as Graph throttles an application per
// tenant. Every failed call returns a *connectors.Error.
package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/internal/httpcall"
	"github.com/openprovisioning/provisioner/internal/places"
)

const (
	// maxBody bounds an answer read into memory.
	maxBody   = 64 << 20
	userAgent = "openprovisioning-graph/1"
	// retryWaitMin is the first back-off when Graph named no Retry-After.
	retryWaitMin = 500 * time.Millisecond
)

// Client reads one tenant. It is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *retryablehttp.Client
	idle    *http.Transport
	tenant  *tenant
	leave   func()
	secrets []string
	log     *logrus.Entry

	// assigned caches the service principal's assignments for the reads
	// of one cycle (see assignments).
	assignMu sync.Mutex
	assigned *assignments
}

var (
	_ connectors.Source = (*Client)(nil)
	_ connectors.Getter = (*Client)(nil)
)

func init() {
	connectors.RegisterSource("graph", func() connectors.SourceConfig { return &Config{} })
}

// OpenSource connects to the tenant as a job's source.
func (c Config) OpenSource(ctx context.Context, log *logrus.Entry) (connectors.Source, error) {
	return connectors.Opened[connectors.Source](c.Open(ctx, log))
}

// Open checks the configuration and resolves its credentials. It sends no
// request: the first read asks for a token.
func (c Config) Open(_ context.Context, log *logrus.Entry) (*Client, error) {
	if errs := c.problems(false); len(errs) > 0 {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "open", Detail: errors.Join(errs...).Error()}
	}
	cfg := c.withDefaults()
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	log = log.WithFields(logrus.Fields{"graph": cfg.GraphURL, "tenant": cfg.Tenant})
	roots, err := cfg.rootCAs()
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindInvalidRequest, Op: "open", Detail: "caCertFile: " + err.Error()}
	}
	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: cfg.MaxConcurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	timeout := time.Duration(cfg.Timeout)
	tokens, secrets, err := cfg.newTokens(&http.Client{Transport: base, Timeout: timeout})
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindUnauthorized, Op: "open", Detail: err.Error()}
	}
	tn, leave := joinTenant(cfg.Authority+"\x00"+strings.ToLower(cfg.Tenant), cfg.MaxConcurrency)
	client := &Client{cfg: cfg, idle: base, tenant: tn, leave: leave, secrets: secrets, log: log}
	client.http = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: &throttled{base: &authorizing{base: base, tokens: tokens}, tenant: tn, timeout: timeout},
			// A redirect would carry the token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: retryWaitMin,
		RetryWaitMax: time.Duration(cfg.MaxRetryWait),
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   checkRetry,
		Backoff:      client.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return client, nil
}

// Close releases idle connections and the client's part in the tenant's
// shared limits.
func (c *Client) Close() error {
	c.leave()
	c.idle.CloseIdleConnections()
	return nil
}

// ChangeDetection: Graph reports changes and deletions through delta queries.
func (c *Client) ChangeDetection() connectors.ChangeDetection { return connectors.Delta }

// get reads one Graph URL (a path below GraphURL, or a link Graph gave)
// into out.
func (c *Client) get(ctx context.Context, link string, pageSize int, out any) error {
	u, err := c.resolve(link)
	if err != nil {
		return err
	}
	op := "GET " + opPath(u)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: c.redact(err.Error())}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if pageSize > 0 {
		// Delta queries take their page size from this preference, not $top.
		req.Header.Set("Prefer", "odata.maxpagesize="+itoa(pageSize))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return c.transportError(op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return c.transportError(op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return c.statusError(op, resp.StatusCode, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: op, Status: resp.StatusCode, Detail: "the answer is not Graph JSON: " + err.Error()}
	}
	return nil
}

// resolve makes a path absolute under GraphURL and refuses a link to
// another host: the bearer token goes wherever the link points.
func (c *Client) resolve(link string) (string, error) {
	if strings.HasPrefix(link, "/") {
		return c.cfg.GraphURL + link, nil
	}
	base, _ := url.Parse(c.cfg.GraphURL)
	u, err := url.Parse(link)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
		return "", &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: "GET", Detail: "Graph sent a link outside " + c.cfg.GraphURL + ": " + connectors.Truncate(link, maxDetail)}
	}
	return link, nil
}

// opPath names a request for messages: its path, without the query that
// holds skip and delta tokens.
func opPath(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Path
}

// checkRetry retries connection errors, throttling (429), 5xx but 501,
// and nothing else: a 401 or 400 will not change.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			return false, err
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	s := resp.StatusCode
	return s == http.StatusTooManyRequests || (s >= 500 && s != http.StatusNotImplemented), nil
}

// backoff waits what a 429 or 503 asks in Retry-After (capped at hi), and
// pauses every call to the tenant for as long; otherwise it backs off
// exponentially with jitter.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := httpcall.RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			d = min(d, hi)
			c.tenant.hold(time.Now().Add(d))
			c.log.WithFields(logrus.Fields{"status": resp.StatusCode, "retryAfter": d}).Info("throttled by Graph: every call to the tenant waits")
			return d
		}
	}
	d := hi
	if attempt < 30 {
		d = min(lo<<attempt, hi)
	}
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// throttled is the RoundTripper every attempt passes through: it waits
// out the tenant's Retry-After pause and for a slot of the tenant's
// concurrency limit (held until the body is closed). The time-out starts
// after the waiting.
type throttled struct {
	base    http.RoundTripper
	tenant  *tenant
	timeout time.Duration
}

func (t *throttled) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := t.tenant.wait(ctx); err != nil {
		return nil, err
	}
	if err := t.tenant.slots.Acquire(ctx); err != nil {
		return nil, err
	}
	attempt, cancel := context.WithTimeout(ctx, t.timeout)
	// Called once: here on an error, or by the body when it is closed.
	release := func() {
		cancel()
		t.tenant.slots.Release()
	}
	resp, err := t.base.RoundTrip(req.Clone(attempt))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = httpcall.ReleaseOnClose(resp.Body, release)
	return resp, nil
}

// tenant is what the process's calls to one tenant share: Graph throttles
// an application per tenant, so a Retry-After one call receives holds
// every job's calls, and the concurrency limit is the strictest the open
// connections ask for.
type tenant struct {
	key   string
	mu    sync.Mutex
	until time.Time
	users map[*int]bool // each open connection's maxConcurrency
	// slots are the calls in flight, as many as limit allows.
	slots places.Limit
}

var tenants = struct {
	mu  sync.Mutex
	all map[string]*tenant
}{all: map[string]*tenant{}}

// joinTenant returns the limits shared under key, with a connection
// allowing concurrency calls at once; leave gives its part up.
func joinTenant(key string, concurrency int) (*tenant, func()) {
	tenants.mu.Lock()
	defer tenants.mu.Unlock()
	t := tenants.all[key]
	if t == nil {
		t = &tenant{key: key, users: map[*int]bool{}}
		tenants.all[key] = t
	}
	use := &concurrency
	t.mu.Lock()
	t.users[use] = true
	t.slots.Resize(t.limit())
	t.mu.Unlock()
	return t, sync.OnceFunc(func() {
		tenants.mu.Lock()
		defer tenants.mu.Unlock()
		t.mu.Lock()
		delete(t.users, use)
		empty := len(t.users) == 0
		t.slots.Resize(t.limit())
		t.mu.Unlock()
		if empty {
			delete(tenants.all, t.key)
		}
	})
}

// limit is the strictest concurrency of the open connections; the caller
// holds mu.
func (t *tenant) limit() int {
	n := 0
	for u := range t.users {
		if n == 0 || *u < n {
			n = *u
		}
	}
	return max(n, 1)
}

// hold pauses every call to the tenant until the time given.
func (t *tenant) hold(until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.until) {
		t.until = until
	}
}

// wait returns once the tenant's pause is over.
func (t *tenant) wait(ctx context.Context) error {
	for {
		t.mu.Lock()
		d := time.Until(t.until)
		t.mu.Unlock()
		if d <= 0 {
			return nil
		}
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}
