package scim

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pace sets the rate limiter of a service's shared limits: the configured
// rate, lowered while the service answers 429 Too Many Requests to many
// requests. A service over its limit refuses what goes beyond it, so when
// a fifth or more of the latest answers are 429s, the calls made to it
// together are too many: every call pauses for the Retry-After, and the
// rate drops to a share of what the service was accepting (multiplicative
// decrease), then climbs back by a constant step a second once the pause
// is over (additive increase), as TCP's congestion control does. It
// settles near the service's limit and returns to the configured rate
// when the limit was someone else's passing burst; until then every 429
// pauses every call. A sporadic 429 among accepted requests of a service
// not known to be at its limit says little about the rate: only its own
// call waits.
type pace struct {
	mu         sync.Mutex
	limiter    *rate.Limiter
	configured float64 // requests per second; +Inf for none
	current    float64 // the limiter's rate

	lowered   bool
	from, to  float64   // the rate lowered from, and to
	climbFrom time.Time // the end of the pause the service asked for
	slowed    time.Time // when the service last slowed every call

	// answers are the latest answers: when they came and whether they
	// were 429s.
	answers [answerWindow]answer
	seen    int
}

type answer struct {
	at      time.Time
	tooMany bool
}

const (
	// paceDecrease is the share of the accepted rate left after a slowdown:
	// a service over its limit accepts at its limit, so a little less
	// keeps the calls flowing at close to it.
	paceDecrease = 0.85
	// paceClimb is the share of the rate lowered from that is added back
	// each second: three seconds from a decrease back to that rate.
	paceClimb = 0.05
	// paceFloor is the lowest rate, and the smallest step, in requests per
	// second.
	paceFloor = 1.0
	// answerWindow is how many answers the share of 429s and the accepted
	// rate are measured over.
	answerWindow = 64
	// slowdownShare is the share of 429s among them that slows every call:
	// a service answering one in twenty requests 429 at random stays far
	// below it, one sent a quarter more than its limit does not.
	slowdownShare = 0.2
)

func newPace() *pace {
	inf := math.Inf(1)
	return &pace{limiter: rate.NewLimiter(rate.Inf, 1), configured: inf, current: inf}
}

// configure sets the configured rate (+Inf for none).
func (p *pace) configure(perSecond float64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.configured = perSecond
	p.set(now)
}

// wait updates the rate as it climbs back and waits for a token.
func (p *pace) wait(ctx context.Context) error {
	p.mu.Lock()
	if p.lowered {
		p.set(time.Now())
	}
	p.mu.Unlock()
	return p.limiter.Wait(ctx)
}

// answered takes note of an answer to a request sent at sent and reports
// whether every call is to pause until pauseEnd, when the service said to
// try again. A 429 that makes a fifth of the latest answers 429s slows
// the service down: it lowers the rate, which climbs back from pauseEnd.
// Requests sent before the last slowdown answer the rate it lowered, and
// lower it no further; until the rate has climbed back, any 429 pauses
// every call.
func (p *pace) answered(sent, now, pauseEnd time.Time, tooMany bool) (pause bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[p.seen%answerWindow] = answer{at: now, tooMany: tooMany}
	p.seen++
	if !tooMany {
		return false
	}
	if sent.Before(p.slowed) || p.tooManyShare() < slowdownShare {
		// While the rate is still lowered, the service is known to be at
		// its limit: this 429 is about the rate too, and every call waits
		// as it asks, without lowering the rate again.
		p.rate(now)
		return p.lowered
	}
	p.slowed = now
	if base := min(p.rate(now), p.accepted(p.climbFrom)); !math.IsInf(base, 1) {
		p.lowered = true
		p.from = base
		p.to = max(paceFloor, math.Round(base*paceDecrease))
		p.climbFrom = maxTime(now, pauseEnd)
		p.set(now)
	}
	// Without a rate configured or measured to take a share of, the
	// pause alone slows the service down.
	return true
}

// tooManyShare is the share of 429s among the latest answers.
func (p *pace) tooManyShare() float64 {
	n := min(p.seen, answerWindow)
	refused := 0
	for _, a := range p.answers[:n] {
		if a.tooMany {
			refused++
		}
	}
	return float64(refused) / float64(n)
}

// rate is the rate at now: the configured one, or, while lowered, the
// rate lowered to plus the climb since the pause ended. Without a
// configured rate, the climb ends at twice the rate lowered from.
func (p *pace) rate(now time.Time) float64 {
	if !p.lowered {
		return p.configured
	}
	step := max(paceFloor, p.from*paceClimb)
	r := p.to + math.Floor(step*max(0, now.Sub(p.climbFrom).Seconds()))
	ceiling := p.configured
	if math.IsInf(ceiling, 1) {
		ceiling = 2 * p.from
	}
	if r >= ceiling {
		p.lowered = false
		return p.configured
	}
	return r
}

// accepted is the rate the latest answers other than 429 came at since a
// time (the end of the last pause, which would count as a quiet spell),
// +Inf when too few came to tell. It is measured between answers, so that
// a quiet spell before a burst does not count either.
func (p *pace) accepted(since time.Time) float64 {
	var n int
	var oldest, newest time.Time
	for _, a := range p.answers[:min(p.seen, answerWindow)] {
		if a.tooMany || a.at.Before(since) {
			continue
		}
		n++
		if oldest.IsZero() || a.at.Before(oldest) {
			oldest = a.at
		}
		if a.at.After(newest) {
			newest = a.at
		}
	}
	span := newest.Sub(oldest).Seconds()
	if n < 2 || span <= 0 {
		return math.Inf(1)
	}
	return float64(n-1) / span
}

// set gives the limiter the rate at now; the caller holds mu.
func (p *pace) set(now time.Time) {
	r := p.rate(now)
	if r == p.current {
		return
	}
	p.current = r
	if math.IsInf(r, 1) {
		p.limiter.SetLimitAt(now, rate.Inf)
		return
	}
	p.limiter.SetLimitAt(now, rate.Limit(r))
	p.limiter.SetBurstAt(now, max(1, int(math.Ceil(r))))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
