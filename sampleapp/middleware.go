package sampleapp

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Stats counts the SCIM requests an App served since it started or since
// the last ResetStats.
type Stats struct {
	// Requests counts requests by method and resource type, such as
	// "POST /Users", "PATCH /Groups" or "GET /ServiceProviderConfig".
	Requests map[string]int
	// Statuses counts responses by HTTP status code.
	Statuses map[int]int
	// Faults counts requests answered by fault injection.
	Faults int
	// MaxPatchBytes is the size of the largest PATCH body received.
	MaxPatchBytes int
	// Users and Groups are the numbers of resources held now.
	Users, Groups int
}

type counters struct {
	mu            sync.Mutex
	requests      map[string]int
	statuses      map[int]int
	faults        int
	maxPatchBytes int
}

func newCounters() *counters {
	return &counters{requests: map[string]int{}, statuses: map[int]int{}}
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{
		Requests:      make(map[string]int, len(c.requests)),
		Statuses:      make(map[int]int, len(c.statuses)),
		Faults:        c.faults,
		MaxPatchBytes: c.maxPatchBytes,
	}
	for k, v := range c.requests {
		s.Requests[k] = v
	}
	for k, v := range c.statuses {
		s.Statuses[k] = v
	}
	return s
}

func (c *counters) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests, c.statuses = map[string]int{}, map[int]int{}
	c.faults, c.maxPatchBytes = 0, 0
}

func (c *counters) record(key string, status int, patchBytes int, fault bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests[key]++
	c.statuses[status]++
	c.maxPatchBytes = max(c.maxPatchBytes, patchBytes)
	if fault {
		c.faults++
	}
}

// resourceKey names a request by method and first path segment below the
// SCIM base: "PATCH /Groups" for PATCH /scim/v2/Groups/123.
func resourceKey(method, path string) string {
	path = strings.TrimPrefix(path, "/scim")
	path = strings.TrimPrefix(path, "/v2")
	path = strings.Trim(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[:i]
	}
	return method + " /" + path
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type countingBody struct {
	io.ReadCloser
	n int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += n
	return n, err
}

// withStats counts every SCIM request, including rejected and faulted ones.
func (a *App) withStats(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		body := &countingBody{ReadCloser: r.Body}
		r.Body = body
		next.ServeHTTP(sw, r)
		patchBytes := 0
		if r.Method == http.MethodPatch {
			patchBytes = body.n
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		a.stats.record(resourceKey(r.Method, r.URL.Path), status, patchBytes, sw.Header().Get(faultHeader) != "")
	})
}

// withAuth rejects requests without the bearer token.
func (a *App) withAuth(next http.Handler) http.Handler {
	if a.opts.Token == "" {
		return next
	}
	want := []byte("Bearer " + a.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
			writeError(w, http.StatusUnauthorized, "Authorization failure. The authorization header is invalid or missing.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// faultHeader marks injected faults so the stats can count them.
const faultHeader = "X-Sampleapp-Fault"

// faults decides which requests get an injected 503 or 429. Decisions come
// from a seeded generator, so a run with the same request order repeats.
type faults struct {
	mu         sync.Mutex
	rate       float64
	rng        *rand.Rand
	retryAfter string
}

func newFaults(rate float64, seed uint64, retryAfter time.Duration) *faults {
	secs := int(math.Ceil(max(retryAfter, 0).Seconds()))
	return &faults{
		rate:       rate,
		rng:        rand.New(rand.NewPCG(seed, seed^0x5ca1ab1e)),
		retryAfter: strconv.Itoa(secs),
	}
}

// next returns the status to inject, or 0 to serve the request.
func (f *faults) next() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return 0
	}
	if f.rng.IntN(2) == 0 {
		return http.StatusServiceUnavailable
	}
	return http.StatusTooManyRequests
}

// withFaults answers a share of requests with 503 or 429 and Retry-After
// before they reach the store, so a faulted request changed nothing.
func (a *App) withFaults(next http.Handler) http.Handler {
	if a.faults == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := a.faults.next()
		if status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", a.faults.retryAfter)
		w.Header().Set(faultHeader, "1")
		writeError(w, status, "Injected fault; retry later.")
	})
}

// writeError writes a SCIM error response (RFC 7644 §3.12).
func writeError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  strconv.Itoa(status),
		"detail":  detail,
	})
}
