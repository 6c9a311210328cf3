// Package places limits how many goroutines do something at once, with a
// limit that can change while places are held: the SCIM client's requests
// in flight and its crew of pushing goroutines, a Graph tenant's calls,
// and a push step's workers.
package places

import (
	"container/list"
	"context"
	"sync"
)

// Limit is a concurrency limit whose size can change while places are
// held. Waiters get places in the order they asked. The zero Limit has no
// place until resized.
type Limit struct {
	mu   sync.Mutex
	size int
	// extra are places added to size for a while (see Grow).
	extra   int
	used    int
	waiters list.List // of chan struct{}, sent to when granted a place
}

// grants are the waiters' channels. A job's push steps together run more
// calls than a target takes at once, so that a call waiting to retry
// leaves its place to others: most calls wait for a place, and making a
// channel for each took 0.4% of the worker's CPU in a million-user
// initial cycle. A channel holds one grant and goes back empty: received
// from, or removed before any grant.
var grants = sync.Pool{New: func() any { return make(chan struct{}, 1) }}

// Acquire waits for a place, or until ctx ends.
func (s *Limit) Acquire(ctx context.Context) error {
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
			// Granted as the context ended: pass the place on.
			s.used--
			s.grant()
		default:
			s.waiters.Remove(w)
		}
		grants.Put(granted)
		return ctx.Err()
	}
}

// Release gives a place back.
func (s *Limit) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used--
	s.grant()
}

// Resize changes the number of places; a smaller size takes effect as held
// places are given back.
func (s *Limit) Resize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.size = n
	s.grant()
}

// Grow adds n places for a while, or takes them away again when n is
// negative, as Resize does.
func (s *Limit) Grow(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra += n
	s.grant()
}

// Keep reports whether a holder may keep its place: not when more are held
// than there are, as after the places shrank; the place is then given back.
func (s *Limit) Keep() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used <= s.size+s.extra {
		return true
	}
	s.used--
	s.grant()
	return false
}

// grant hands free places to the first waiters; the caller holds mu.
func (s *Limit) grant() {
	for s.used < s.size+s.extra && s.waiters.Len() > 0 {
		s.used++
		s.waiters.Remove(s.waiters.Front()).(chan struct{}) <- struct{}{}
	}
}

// Held returns how many places are held.
func (s *Limit) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}
