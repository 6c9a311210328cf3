package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/secrets"
)

// HTTP posts the trail to a log collector's endpoint as newline-delimited
// JSON (application/x-ndjson), one entry a line, in batches. A batch goes
// once at least; one that may have reached the collector before a crash
// is posted again with the same entries and the same Idempotency-Key
// header (JOB/UNIT/N), and every entry carries its changeId, so the
// collector can drop repeats.
type HTTP struct {
	url      *url.URL
	token    secrets.Ref
	entries  int
	maxBytes int
	client   *retryablehttp.Client
}

// HTTPOptions configure an HTTP sink.
type HTTPOptions struct {
	URL string
	// Token names where the bearer token is kept; none sends no
	// Authorization header. It is read for every batch, so a rotated token
	// is picked up.
	Token secrets.Ref
	// BatchEntries bounds a batch's entries (500 when zero); a batch also
	// stays under 1 MiB unless one entry is larger.
	BatchEntries int
}

// NewHTTP returns the sink of an endpoint, after checking its URL and that
// its token can be read.
func NewHTTP(o HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("audit HTTP URL %q: use http:// or https:// and a host", o.URL)
	}
	if !o.Token.IsZero() {
		if _, err := o.Token.Resolve(); err != nil {
			return nil, fmt.Errorf("audit HTTP token (%s): %w", o.Token, err)
		}
	}
	if o.BatchEntries <= 0 {
		o.BatchEntries = 500
	}
	c := retryablehttp.NewClient()
	c.Logger = nil
	c.RetryMax = 4
	c.RetryWaitMin, c.RetryWaitMax = time.Second, 30*time.Second
	c.HTTPClient.Timeout = time.Minute
	// The last response, not a generic "giving up", says what went wrong.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &HTTP{url: u, token: o.Token, entries: o.BatchEntries, maxBytes: 1 << 20, client: c}, nil
}

// Name is the endpoint's, without credentials.
func (h *HTTP) Name() string { return "HTTP endpoint " + h.url.Redacted() }

// Begin skips the batches an earlier attempt had posted by its checkpoint:
// batches are cut the same way every time, so their numbers match.
func (h *HTTP) Begin(_ context.Context, u Unit, done int, progress func(int)) (Writer, error) {
	return &httpWriter{h: h, u: u, skip: done, progress: progress}, nil
}

type httpWriter struct {
	h        *HTTP
	u        Unit
	skip     int
	progress func(int)
	// batch is the batch being filled, number n.
	batch bytes.Buffer
	count int
	n     int
}

func (w *httpWriter) Write(ctx context.Context, e audit.Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if w.count > 0 && (w.count == w.h.entries || w.batch.Len()+len(b)+1 > w.h.maxBytes) {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	w.batch.Write(b)
	w.batch.WriteByte('\n')
	w.count++
	return nil
}

func (w *httpWriter) Commit(ctx context.Context) error {
	if w.count == 0 {
		return nil
	}
	return w.flush(ctx)
}

func (w *httpWriter) Abort() {}

func (w *httpWriter) flush(ctx context.Context) error {
	w.n++
	if w.n > w.skip {
		key := w.u.Job + "/" + w.u.ID + "/" + strconv.Itoa(w.n)
		if err := w.h.post(ctx, key, w.batch.Bytes()); err != nil {
			return fmt.Errorf("batch %d (%d entries): %w", w.n, w.count, err)
		}
		w.progress(w.n)
	}
	w.batch.Reset()
	w.count = 0
	return nil
}

// post sends one batch, retried on connection errors, 429 and 5xx
// answers (after Retry-After when given); any 2xx answer accepts it.
func (h *HTTP) post(ctx context.Context, key string, body []byte) error {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, h.url.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Idempotency-Key", key)
	if !h.token.IsZero() {
		tok, err := h.token.Resolve()
		if err != nil {
			return fmt.Errorf("token (%s): %w", h.token, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := h.client.Do(req)
	if resp != nil {
		defer resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			_, _ = io.Copy(io.Discard, resp.Body)
			return nil
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", h.url.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	return fmt.Errorf("POST %s: %w", h.url.Redacted(), err)
}
