// Package scim is a SCIM 2.0 connector (RFC 7643, RFC 7644): a target that
// creates, queries, patches and deletes Users and Groups and changes group
// memberships in batches, and a source that lists them page by page, by
// meta.lastModified delta when the service supports it (opened with
// Config.OpenSource, the source also reads one object by its id).
//
// Attributes are addressed by flat paths, the same on both sides:
// `userName`, `name.givenName`, `emails[type eq "work"].value`,
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
// The enterprise `manager` is its id.
//
// Every failed call returns a *connectors.Error, never wrapped.
package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/places"
	"github.com/sirupsen/logrus"
)

// Client talks to one SCIM service. It is safe for concurrent use; the
// concurrency limit, the rate limit, which 429s lower, and the pauses a
// 429's Retry-After asks for are shared by all calls of the process to the
// same service with the same credentials.
type Client struct {
	cfg     Config
	http    *retryablehttp.Client
	idle    *http.Transport
	limits  *limits
	leave   func() // gives up the shared limits
	secrets []string
	log     *logrus.Entry

	detectMu sync.Mutex
	detected *connectors.ChangeDetection // set once the probe gave an answer

	shapes shapes // of the bodies of creates

	reads reads            // unfinished source reads
	now   func() time.Time // caps watermarks; tests set it
}

var (
	_ connectors.Target           = (*Client)(nil)
	_ connectors.MembershipTarget = (*Client)(nil)
	_ connectors.Source           = (*Client)(nil)
	_ connectors.DeletionDetector = (*Client)(nil)
	_ connectors.Writer           = (*Client)(nil)
	_ connectors.Crew             = (*Client)(nil)
)

const (
	// maxBody bounds a response read into memory: a page of large groups.
	maxBody   = 64 << 20
	userAgent = "openprovisioning-scim/1"
)

// Open checks the configuration, resolves its secrets and returns a client.
// It sends no request; TestConnection does.
func (c Config) Open(_ context.Context, log *logrus.Entry) (*Client, error) {
	if errs := c.problems(false); len(errs) > 0 {
		return nil, invalid("open", errors.Join(errs...).Error())
	}
	cfg := c.withDefaults()
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	log = log.WithField("scim", cfg.BaseURL)

	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        cfg.MaxConcurrency * 2,
		MaxIdleConnsPerHost: cfg.MaxConcurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	timeout := time.Duration(cfg.Timeout)
	creds, err := cfg.resolveCredentials(&http.Client{Transport: base, Timeout: timeout})
	if err != nil {
		return nil, &connectors.Error{Kind: connectors.KindUnauthorized, Op: "open", Detail: err.Error()}
	}
	lim, leave := joinLimits(limitsKey(cfg.BaseURL, creds.identity), &limitUse{concurrency: cfg.MaxConcurrency, rate: cfg.RequestsPerSecond})
	t := &transport{
		base:      base,
		authorize: creds.authorize,
		timeout:   timeout,
		maxPause:  time.Duration(cfg.MaxRetryWait),
		limits:    lim,
	}
	client := &Client{cfg: cfg, idle: base, limits: lim, leave: leave, secrets: creds.secrets, log: log, now: time.Now}
	client.http = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: t,
			// A redirect would carry the credentials elsewhere; a SCIM
			// service has no reason to send one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:       retryLogger{log: log, redact: client.redact},
		RetryWaitMin: retryWaitMin,
		RetryWaitMax: time.Duration(cfg.MaxRetryWait),
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   checkRetry,
		Backoff: func(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
			return backoff(lo, hi, attempt, resp, lim.health.sporadic())
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return client, nil
}

// JoinCrew waits for a place among the goroutines pushing objects to the
// service from this process. A job's push steps together run more of them
// than the service takes calls, so that while a call waits to retry
// others go on; those beyond the slots would each wait for a slot at
// every call, which cost several percent of the worker's CPU.
func (c *Client) JoinCrew(ctx context.Context) (connectors.CrewPlace, error) {
	if err := c.limits.crew.Acquire(ctx); err != nil {
		return nil, err
	}
	return crewPlace{&c.limits.crew}, nil
}

// crewPlace is a place in the limits' crew.
type crewPlace struct{ crew *places.Limit }

func (p crewPlace) Keep() bool { return p.crew.Keep() }
func (p crewPlace) Leave()     { p.crew.Release() }

// Close releases idle connections and the client's part in the shared
// limits.
func (c *Client) Close() error {
	c.leave()
	c.idle.CloseIdleConnections()
	return nil
}

// call sends one request and decodes a 2xx answer's JSON body into out
// (when out is not nil and there is a body). body is marshalled to JSON.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	op := method + " " + path
	var payload []byte
	if encoded, ok := body.(encodedBody); ok {
		payload = encoded
	} else if body != nil {
		var err error
		if payload, err = encodeBody(body); err != nil {
			return invalid(op, "encoding the request: "+err.Error())
		}
	}
	u := c.cfg.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rawBody any // a nil []byte would still send Content-Length: 0
	if payload != nil {
		rawBody = payload
	}
	st := &callState{crew: &c.limits.crew, step: connectors.RetryWaitsOf(ctx)}
	defer st.tryAgain()
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, callKey{}, st), method, u, rawBody)
	if err != nil {
		return invalid(op, c.redact(err.Error()))
	}
	req.Header["Accept"] = acceptValues
	req.Header["User-Agent"] = userAgentValues
	if payload != nil {
		req.Header["Content-Type"] = contentTypeValues
	}

	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return c.transportError(op, err)
	}
	defer resp.Body.Close()
	buf := answers.Get().(*bytes.Buffer)
	defer putAnswer(buf)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody)); err != nil {
		return c.transportError(op, err)
	}
	raw := buf.Bytes()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ce := c.statusError(op, resp.StatusCode, raw)
		if resp.StatusCode == http.StatusUnauthorized {
			ce.Detail += authSchemes(resp.Header)
		}
		// A refusal may answer what an earlier try did: a create conflicts
		// with the object it made.
		if st.inDoubt.Load() && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			ce.Resent = true
			ce.Detail += " (sent again after an earlier try got no answer)"
		}
		return ce
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if created, ok := out.(*createdResource); ok {
		if id, ok := scanID(raw); ok {
			created.ID = id
			return nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return c.incompatible(op, resp.StatusCode, fmt.Sprintf("the answer is not SCIM JSON (Content-Type %q): %v", resp.Header.Get("Content-Type"), err))
	}
	return nil
}

// The values of the headers every request carries, shared by all: a
// request's header values are only read on the way out, and a slice
// set once per request was three allocations of every push.
var (
	acceptValues      = []string{"application/scim+json, application/json"}
	userAgentValues   = []string{userAgent}
	contentTypeValues = []string{"application/scim+json"}
)

// encodedBody is a request body encoded already, sent as it is.
type encodedBody []byte

// answers holds buffers for reading answers, which are decoded (and so
// copied) before call returns: a push reads its answer without growing a
// new buffer.
var answers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putAnswer returns an answer's buffer to the pool unless an unusually
// large answer grew it, which would stay held.
func putAnswer(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return
	}
	b.Reset()
	answers.Put(b)
}

// endpoint returns the resource endpoint of an object type.
func endpoint(t connectors.ObjectType) (string, error) {
	switch t {
	case connectors.User:
		return "/Users", nil
	case connectors.Group:
		return "/Groups", nil
	}
	return "", invalid("scim", "object type "+string(t)+" is not User or Group")
}

// resourcePath returns the URL path of one resource.
func resourcePath(t connectors.ObjectType, id string) (string, error) {
	ep, err := endpoint(t)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(id) == "" {
		return "", invalid(ep, "empty resource id")
	}
	return ep + "/" + url.PathEscape(id), nil
}
