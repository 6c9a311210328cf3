// Package scimfault stands in front of a SCIM service and answers its list
// requests as faulty services do (paging by startIndex ignored, resources
// lost between pages, a low totalResults, groups listed without members),
// so tests show that the engine never takes such a listing for all there is.
package scimfault

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Fault is how list requests are answered.
type Fault int32

const (
	// None passes every request on as it is.
	None Fault = iota
	// IgnoreStartIndex answers every list request with the first page.
	IgnoreStartIndex
	// DropBetweenPages leaves the first resource out of every page but the
	// first, with totalResults unchanged, as a service whose order changes
	// between requests loses resources.
	DropBetweenPages
	// LowTotal sets totalResults to the resources of the page alone.
	LowTotal
	// NoMembers lists groups without their members.
	NoMembers
)

// Proxy answers list requests with its fault and passes everything else on.
type Proxy struct {
	next    http.Handler
	fault   atomic.Int32
	faulted atomic.Int64
	mu      sync.Mutex
	onList  func(*http.Request)
}

// New puts a proxy without a fault in front of next.
func New(next http.Handler) *Proxy { return &Proxy{next: next} }

// Set changes the fault of the requests to come.
func (p *Proxy) Set(f Fault) { p.fault.Store(int32(f)) }

// Faulted counts the list answers a fault has changed.
func (p *Proxy) Faulted() int { return int(p.faulted.Load()) }

// OnList calls fn before each list request is passed on (nil: none).
func (p *Proxy) OnList(fn func(*http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onList = fn
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !isCollection(r.URL.Path) {
		p.next.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	hook := p.onList
	p.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	f := Fault(p.fault.Load())
	start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
	if f == IgnoreStartIndex && start > 1 {
		q := r.URL.Query()
		q.Del("startIndex")
		r.URL.RawQuery = q.Encode()
		p.faulted.Add(1)
	}
	if f == None || f == IgnoreStartIndex {
		p.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var lr map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(body, &lr) == nil {
		if p.rewrite(f, r, lr, start) {
			p.faulted.Add(1)
			body, _ = json.Marshal(lr) // decoded JSON always encodes
		}
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = bytes.NewReader(body).WriteTo(w)
}

// rewrite applies the fault to a list answer and reports whether it
// changed anything.
func (p *Proxy) rewrite(f Fault, r *http.Request, lr map[string]any, start int) bool {
	res, _ := lr["Resources"].([]any)
	switch {
	case f == DropBetweenPages && start > 1 && len(res) > 0:
		lr["Resources"] = res[1:]
	case f == LowTotal:
		lr["totalResults"] = len(res)
	case f == NoMembers && strings.HasSuffix(r.URL.Path, "/Groups") && len(res) > 0:
		for _, g := range res {
			if m, ok := g.(map[string]any); ok {
				delete(m, "members")
			}
		}
	default:
		return false
	}
	return true
}

// isCollection reports whether a path is a /Users or /Groups endpoint.
func isCollection(path string) bool {
	return strings.HasSuffix(path, "/Users") || strings.HasSuffix(path, "/Groups")
}
