package scim

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pace sets the rate limiter of a service's shared limits: the configured
// rate, lowered while the service answers 429 Too Many Requests. A 429
// says that all the calls made to the service together are too many, not
// that one call failed, so the rate drops to a share of what the service
// was accepting (multiplicative decrease) and climbs back by a constant
// step a second once the pause the service asked for is over (additive
// increase), as TCP's congestion control does: it settles just under the
// service's limit and returns to the configured rate when the limit was
// someone else's passing burst.
type pace struct {
	mu         sync.Mutex
	limiter    *rate.Limiter
	configured float64 // requests per second; +Inf for none
	current    float64 // the limiter's rate

	lowered   bool
	from, to  float64   // the rate lowered from, and to
	climbFrom time.Time // the end of the pause the service asked for
	decreased time.Time // when the rate was last lowered

	// accepted holds when the latest answers other than 429 came, to
	// measure the rate the service accepts when none is configured.
	accepted [acceptedWindow]time.Time
	seen     int
}

const (
	// paceDecrease is the share of the accepted rate a 429 leaves.
	paceDecrease = 0.7
	// paceClimb is the share of the rate lowered from that is added back
	// each second: about six seconds from a decrease back to that rate.
	paceClimb = 0.05
	// paceFloor is the lowest rate, and the smallest step, in requests per
	// second.
	paceFloor = 1.0
	// acceptedWindow is how many answers the accepted rate is measured
	// over.
	acceptedWindow = 64
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

// answered takes note of an answer to a request sent at sent: a 429
// lowers the rate, once for all requests sent before it was lowered, and
// the climb back starts at pauseEnd, when the service said to try again.
func (p *pace) answered(sent, now, pauseEnd time.Time, tooMany bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !tooMany {
		p.accepted[p.seen%acceptedWindow] = now
		p.seen++
		return
	}
	if p.lowered && sent.Before(p.decreased) {
		// Sent at the rate already lowered from: it answers that rate.
		p.climbFrom = maxTime(p.climbFrom, pauseEnd)
		return
	}
	base := min(p.rate(now), p.measured())
	if math.IsInf(base, 1) {
		// Nothing measured yet to take a share of: the pause alone holds.
		return
	}
	p.lowered = true
	p.from = base
	p.to = max(paceFloor, math.Round(base*paceDecrease))
	p.decreased = now
	p.climbFrom = maxTime(now, pauseEnd)
	p.set(now)
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

// measured is the rate the latest answers other than 429 came at, +Inf
// when too few came to tell. It is measured between answers, so that a
// quiet spell before a burst does not count.
func (p *pace) measured() float64 {
	n := min(p.seen, acceptedWindow)
	if n < 2 {
		return math.Inf(1)
	}
	oldest := p.accepted[(p.seen-n)%acceptedWindow]
	newest := p.accepted[(p.seen-1)%acceptedWindow]
	span := newest.Sub(oldest).Seconds()
	if span <= 0 {
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
