package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	xrate "golang.org/x/time/rate"

	"github.com/openprovisioning/provisioner/internal/testenv/lostanswer"
)

// faultSpec is what the fault proxy does to the target's requests, from
// -faults: shares answered 503 or 429, a share whose answers are lost
// after the application acted, and a rate the target accepts, above which
// it answers 429 as a rate-limited service does. A 429 asks for a pause
// of retryAfter seconds, 1 unless set; a 503 only when it is set.
type faultSpec struct {
	unavailable float64 // 0..1
	tooMany     float64 // 0..1
	lost        float64 // 0..1
	limit       float64 // requests per second; 0 for none
	retryAfter  int     // seconds; -1 when not set
}

func (f faultSpec) on() bool { return f.unavailable > 0 || f.tooMany > 0 || f.lost > 0 || f.limit > 0 }

// parseFaults reads a comma-separated list such as
// "503=10%,429=5%,lost=5%", "429=200/s" or "503=10%,retry-after=1".
func parseFaults(s string) (faultSpec, error) {
	f := faultSpec{retryAfter: -1}
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, part := range strings.Split(s, ",") {
		kind, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return f, fmt.Errorf("-faults: %q is not kind=value", part)
		}
		if kind == "retry-after" {
			v, err := strconv.Atoi(value)
			if err != nil || v < 0 {
				return f, fmt.Errorf("-faults: %q: Retry-After is a whole number of seconds", part)
			}
			f.retryAfter = v
			continue
		}
		if perSecond, ok := strings.CutSuffix(value, "/s"); ok && kind == "429" {
			v, err := strconv.ParseFloat(perSecond, 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) {
				return f, fmt.Errorf("-faults: %q: the rate the target accepts must be a positive number of requests a second", part)
			}
			f.limit = v
			continue
		}
		pct, ok := strings.CutSuffix(value, "%")
		v, err := strconv.ParseFloat(pct, 64)
		if !ok || err != nil || v < 0 || v >= 100 {
			return f, fmt.Errorf("-faults: %q: a share is a percentage from 0 to under 100, e.g. 10%%", part)
		}
		switch kind {
		case "503":
			f.unavailable = v / 100
		case "429":
			f.tooMany = v / 100
		case "lost":
			f.lost = v / 100
		default:
			return f, fmt.Errorf("-faults: %q: the kinds are 503, 429, lost and retry-after", part)
		}
	}
	if f.unavailable+f.tooMany+f.lost >= 1 {
		return f, fmt.Errorf("-faults %q: the shares add up to 100%% or more; nothing would get through", s)
	}
	return f, nil
}

func (f faultSpec) String() string {
	var parts []string
	pct := func(kind string, v float64) {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s=%g%%", kind, 100*v))
		}
	}
	pct("503", f.unavailable)
	pct("429", f.tooMany)
	pct("lost", f.lost)
	if f.limit > 0 {
		parts = append(parts, fmt.Sprintf("429=%g/s", f.limit))
	}
	if f.retryAfter >= 0 {
		parts = append(parts, fmt.Sprintf("retry-after=%d", f.retryAfter))
	}
	return strings.Join(parts, ",")
}

// faultProxy stands in front of the sample application and answers its
// requests as faultSpec says. Refused requests (503, 429) never reach the
// application; lost ones do, and the application acts on them.
type faultProxy struct {
	spec    faultSpec
	next    http.Handler
	lost    *lostanswer.Proxy
	limiter *xrate.Limiter // nil without a rate limit

	mu  sync.Mutex
	rng *rand.Rand

	unavailable, tooMany atomic.Int64
}

func newFaultProxy(spec faultSpec, app http.Handler, seed uint64) *faultProxy {
	p := &faultProxy{spec: spec, rng: rand.New(rand.NewPCG(seed, seed^0xfa17))}
	p.lost = lostanswer.New(app, func(*http.Request) bool { return p.draw() < spec.lost })
	p.next = p.lost
	if spec.limit > 0 {
		p.limiter = xrate.NewLimiter(xrate.Limit(spec.limit), max(1, int(math.Ceil(spec.limit))))
	}
	return p
}

func (p *faultProxy) draw() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.limiter != nil && !p.limiter.Allow() {
		p.tooMany.Add(1)
		p.refuse(w, http.StatusTooManyRequests)
		return
	}
	switch x := p.draw(); {
	case x < p.spec.unavailable:
		p.unavailable.Add(1)
		p.refuse(w, http.StatusServiceUnavailable)
	case x < p.spec.unavailable+p.spec.tooMany:
		p.tooMany.Add(1)
		p.refuse(w, http.StatusTooManyRequests)
	default:
		p.next.ServeHTTP(w, r)
	}
}

// refuse answers a SCIM error, with Retry-After as the spec says.
func (p *faultProxy) refuse(w http.ResponseWriter, status int) {
	switch {
	case p.spec.retryAfter >= 0:
		w.Header().Set("Retry-After", strconv.Itoa(p.spec.retryAfter))
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"injected by the bench"}`, status)
}

// faultCounts is what the proxy did during a phase.
type faultCounts struct{ unavailable, tooMany, lost int }

func (p *faultProxy) counts() faultCounts {
	return faultCounts{int(p.unavailable.Load()), int(p.tooMany.Load()), p.lost.Lost()}
}
