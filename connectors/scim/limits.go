package scim

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sync"
	"time"
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
	slots slots
	// crew holds the places of the goroutines pushing objects to the
	// service from this process (see Client.JoinCrew): as many as there
	// are slots, and one more for each call waiting to retry, which holds
	// no slot meanwhile.
	crew   slots
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
	l.slots.resize(concurrency)
	l.crew.resize(concurrency)
	l.pace.configure(perSecond, time.Now())
}

// slots is a concurrency limit whose size can change while slots are held.
// Waiters get slots in the order they asked.
type slots struct {
	mu   sync.Mutex
	size int
	// extra are slots added to size for a while (see grow).
	extra   int
	used    int
	waiters list.List // of chan struct{}, sent to when granted a slot
}

// grants are the waiters' channels. A job's push steps together run more
// calls than a target takes at once, so that a call waiting to retry
// leaves its slot to others: most calls wait for a slot, and making a
// channel for each took 0.4% of the worker's CPU in a million-user
// initial cycle. A channel holds one grant and goes back empty: received
// from, or removed before any grant.
var grants = sync.Pool{New: func() any { return make(chan struct{}, 1) }}

// acquire waits for a slot.
func (s *slots) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.used < s.size+s.extra && s.waiters.Len() == 0 {
		s.used++
		s.mu.Unlock()
		return nil
	}
	granted := grants.Get().(chan struct{})
	w := s.waiters.PushBack(granted)
	s.mu.Unlock()
	select {
	case <-granted:
		grants.Put(granted)
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-granted:
			// Granted as the context ended: pass the slot on.
			s.used--
			s.grant()
		default:
			s.waiters.Remove(w)
		}
		grants.Put(granted)
		return ctx.Err()
	}
}

// release gives a slot back.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used--
	s.grant()
}

// resize changes the number of slots; a smaller size takes effect as held
// slots are given back.
func (s *slots) resize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.size = n
	s.grant()
}

// grow adds n slots for a while, or takes them away again when n is
// negative, as resize does.
func (s *slots) grow(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra += n
	s.grant()
}

// keep reports whether a holder may keep its slot: not when more are held
// than there are, as after the slots shrank; the slot is then given back.
func (s *slots) keep() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used <= s.size+s.extra {
		return true
	}
	s.used--
	s.grant()
	return false
}

// grant hands free slots to the first waiters; the caller holds mu.
func (s *slots) grant() {
	for s.used < s.size+s.extra && s.waiters.Len() > 0 {
		s.used++
		s.waiters.Remove(s.waiters.Front()).(chan struct{}) <- struct{}{}
	}
}
