// Package logcollector is a log collector's HTTP endpoint for tests of the
// provisioning log's export: it takes POSTs of newline-delimited JSON
// entries and keeps the first batch posted under each Idempotency-Key, as
// collectors that drop repeats do, counting every post.
package logcollector

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/openprovisioning/provisioner/audit"
)

// Collector is the endpoint.
type Collector struct {
	// URL is where it listens.
	URL string
	// Answer, when set, may answer the n-th post of a key itself, in
	// place of the collector, and then returns true.
	Answer func(w http.ResponseWriter, r *http.Request, key string, n int) bool

	mu      sync.Mutex
	batches map[string][]audit.Entry
	posts   map[string]int
	headers []http.Header
}

// Start starts a collector until the test ends.
func Start(t testing.TB) *Collector {
	c := &Collector{batches: map[string][]audit.Entry{}, posts: map[string]int{}}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// ServeHTTP takes one post.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	c.mu.Lock()
	c.posts[key]++
	n := c.posts[key]
	c.headers = append(c.headers, r.Header.Clone())
	c.mu.Unlock()
	if c.Answer != nil && c.Answer(w, r, key, n) {
		return
	}
	var entries []audit.Entry
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var e audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		entries = append(entries, e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.batches[key]; !seen {
		c.batches[key] = entries
	}
	w.WriteHeader(http.StatusAccepted)
}

// Posts counts the posts of each key.
func (c *Collector) Posts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.posts {
		out[k] = v
	}
	return out
}

// Batch returns the entries kept under a key.
func (c *Collector) Batch(key string) []audit.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches[key]
}

// Kept counts the entries kept, by change ID.
func (c *Collector) Kept() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, b := range c.batches {
		for _, e := range b {
			out[e.ChangeID]++
		}
	}
	return out
}

// Headers returns the values of a header in every post, in order.
func (c *Collector) Headers(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.headers))
	for i, h := range c.headers {
		out[i] = h.Get(name)
	}
	return out
}
