package scim

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sync"
	"time"

	"github.com/openprovisioning/provisioner/internal/places"
)

// limits are what calls to one SCIM service, made with one identity, wait
// for: a slot of the concurrency limit, a token of the rate limit (lowered
// while the service answers 429, see pace), and the end of a pause a 429's
// Retry-After asked for. A service limits its clients, not one job's
// connection, so every client of the process (the worker) with the same
// base URL and credentials shares them: every job and batch draws from the
// same slots. When their configurations differ, the strictest holds.
type limits struct {
	key   string
	slots places.Limit
	// crew holds the places of the goroutines pushing objects to the
	// service from this process (see Client.JoinCrew): as many as there
	// are slots, and one more for each call waiting to retry, which holds
	// no slot meanwhile.
	crew   places.Limit
	pace   *pace
	gate   gate
	health health
	// uses are the configurations of the open clients sharing the limits.
	uses map[*limitUse]bool
}

// limitUse is one client's configured limits.
type limitUse struct {
	concurrency int
	rate        float64 // requests per second; 0 for none
}

// sharedLimits holds the limits of the services the process talks to, by
// service and identity, while a client uses them.
var sharedLimits = struct {
	mu  sync.Mutex
	all map[string]*limits
}{all: map[string]*limits{}}

// limitsKey names a service and the identity its calls are made with. The
// identity may hold a secret, so only a digest is kept.
func limitsKey(baseURL, identity string) string {
	h := sha256.Sum256([]byte(baseURL + "\x00" + identity))
	return hex.EncodeToString(h[:])
}

// joinLimits returns the limits shared under key with u's configuration
// added; leave takes it away again.
func joinLimits(key string, u *limitUse) (l *limits, leave func()) {
	sharedLimits.mu.Lock()
	defer sharedLimits.mu.Unlock()
	l = sharedLimits.all[key]
	if l == nil {
		l = &limits{key: key, pace: newPace(), uses: map[*limitUse]bool{}}
		sharedLimits.all[key] = l
	}
	l.uses[u] = true
	l.apply()
	return l, sync.OnceFunc(func() {
		sharedLimits.mu.Lock()
		defer sharedLimits.mu.Unlock()
		delete(l.uses, u)
		if len(l.uses) == 0 {
			delete(sharedLimits.all, l.key)
			return
		}
		l.apply()
	})
}

// apply sets the strictest limits of the clients using them; the caller
// holds sharedLimits.mu.
func (l *limits) apply() {
	concurrency, perSecond := math.MaxInt, math.Inf(1)
	for u := range l.uses {
		concurrency = min(concurrency, u.concurrency)
		if u.rate > 0 {
			perSecond = min(perSecond, u.rate)
		}
	}
	l.slots.Resize(concurrency)
	l.crew.Resize(concurrency)
	l.pace.configure(perSecond, time.Now())
}
