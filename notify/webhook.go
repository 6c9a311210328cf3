package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openprovisioning/provisioner/secrets"
)

// Webhook headers, as the Standard Webhooks specification names them, so
// that its libraries verify the notices; Idempotency-Key repeats the ID
// for receivers that deduplicate by it.
const (
	HeaderID          = "webhook-id"
	HeaderTimestamp   = "webhook-timestamp"
	HeaderSignature   = "webhook-signature"
	HeaderIdempotency = "Idempotency-Key"
)

type webhook struct {
	url    *url.URL
	secret secrets.Ref
	client *http.Client
}

func newWebhook(c Config, roots *x509.CertPool) (*webhook, error) {
	u, err := url.Parse(c.Webhook)
	if err != nil || u.Host == "" {
		return nil, errors.New("notify: the webhook URL (-notify-webhook) is not an absolute URL")
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("notify: the webhook %s is not https://: notices are sent over HTTPS only", redacted(u))
	}
	if c.WebhookSecret.IsZero() {
		return nil, errors.New("notify: the webhook needs a secret to sign notices (-notify-webhook-secret-file or -notify-webhook-secret-env)")
	}
	if _, err := c.WebhookSecret.Resolve(); err != nil {
		return nil, fmt.Errorf("notify: the webhook secret: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig(roots, "")
	return &webhook{url: u, secret: c.WebhookSecret, client: &http.Client{
		Transport: tr,
		Timeout:   c.Timeout,
		// A redirect would carry the notice where the operator did not say.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func (w *webhook) String() string { return redacted(w.url) }

// send posts the notice, signed; the secret is read for every notice, so
// a rotated one is used without a restart.
func (w *webhook) send(ctx context.Context, n Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	s, err := w.secret.Resolve()
	if err != nil {
		return fmt.Errorf("webhook %s: the secret: %w", w, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w, err)
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "openprovisioning-worker")
	req.Header.Set(HeaderID, n.ID)
	req.Header.Set(HeaderIdempotency, n.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(SecretKey(s), n.ID, now, body))
	resp, err := w.client.Do(req)
	if err != nil {
		// The client's error names the whole URL, which may hold a token.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("webhook %s: %w", w, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s answered %s: %s", w, resp.Status, strings.TrimSpace(string(excerpt)))
	}
	return nil
}

// SecretKey returns the signing key of a secret: a Standard Webhooks
// secret, whsec_ then base64, decoded; any other as it is.
func SecretKey(secret string) []byte {
	if b64, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(b64); err == nil {
			return k
		}
	}
	return []byte(secret)
}

// Sign returns the webhook-signature header of a notice: v1, then the
// base64 HMAC-SHA256, under key, of its ID, timestamp (Unix seconds) and
// body joined by dots.
func Sign(key []byte, id string, t time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, t.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks a notice as a receiver would: its signature under key,
// and a timestamp within tolerance of now, which keeps a captured notice
// from being replayed later.
func Verify(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not Unix seconds", HeaderTimestamp, h.Get(HeaderTimestamp))
	}
	t := time.Unix(sec, 0)
	if d := now.Sub(t); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s %s is more than %s from now", HeaderTimestamp, t.UTC().Format(time.RFC3339), tolerance)
	}
	want := Sign(key, h.Get(HeaderID), t, body)
	// The header may list several signatures, separated by spaces, while
	// a secret is rotated.
	for _, got := range strings.Fields(h.Get(HeaderSignature)) {
		if hmac.Equal([]byte(got), []byte(want)) {
			return nil
		}
	}
	return errors.New("no webhook signature matches the secret")
}
