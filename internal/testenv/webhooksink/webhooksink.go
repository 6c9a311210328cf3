// Package webhooksink is a webhook receiver for tests: an HTTPS server
// that checks every notice's signature as a receiver would and keeps those
// that pass.
package webhooksink

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/notify"
)

// Sink is a running receiver.
type Sink struct {
	// URL is where it takes notices; CAFile holds its certificate (PEM).
	URL    string
	CAFile string

	key []byte

	mu      sync.Mutex
	notices []notify.Notice
	headers []http.Header
	refused []error
}

// Start runs a receiver that verifies notices with secret until the test ends.
func Start(t testing.TB, secret string) *Sink {
	t.Helper()
	s := &Sink{key: notify.SecretKey(secret)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.receive))
	// Handshakes that tests make fail are not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.CAFile = filepath.Join(t.TempDir(), "webhook-ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *Sink) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := notify.Verify(s.key, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		s.refused = append(s.refused, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var n notify.Notice
	if err := json.Unmarshal(body, &n); err != nil {
		s.refused = append(s.refused, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.notices = append(s.notices, n)
	s.headers = append(s.headers, r.Header.Clone())
}

// Notices returns the notices taken, with their headers, and why others
// were refused.
func (s *Sink) Notices() ([]notify.Notice, []http.Header, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notify.Notice(nil), s.notices...), append([]http.Header(nil), s.headers...), append([]error(nil), s.refused...)
}
