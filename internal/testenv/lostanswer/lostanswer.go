// Package lostanswer stands in front of a service and, for the requests
// it is told to, lets the service act and then closes the connection
// instead of answering: the service did what was asked, and its answer is
// lost, as when a proxy or the network fails after a request went through.
package lostanswer

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// Proxy passes requests on and loses the answers lose picks.
type Proxy struct {
	next http.Handler
	lose func(*http.Request) bool
	lost atomic.Int64
}

// New puts a proxy in front of next that loses the answers to the
// requests lose returns true for.
func New(next http.Handler, lose func(*http.Request) bool) *Proxy {
	return &Proxy{next: next, lose: lose}
}

// Lost counts the answers lost.
func (p *Proxy) Lost() int { return int(p.lost.Load()) }

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.lose(r) {
		p.next.ServeHTTP(w, r)
		return
	}
	p.next.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	conn.Close()
	p.lost.Add(1)
}

// POSTs picks the next n POST requests.
func POSTs(n int) func(*http.Request) bool {
	var left atomic.Int64
	left.Store(int64(n))
	return func(r *http.Request) bool { return r.Method == http.MethodPost && left.Add(-1) >= 0 }
}

// Share picks a share (0..1) of all requests at random, the same ones for
// the same seed and order.
func Share(share float64, seed uint64) func(*http.Request) bool {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	return func(*http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64() < share
	}
}
