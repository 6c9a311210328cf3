package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
)

// crewTarget is a target whose calls share a crew of places, as a SCIM
// client's do: creating "slow" waits to retry, and meanwhile makes a place
// for one more, as a SCIM call waiting to retry does.
type crewTarget struct {
	*memoryTarget
	mu       sync.Mutex
	cond     *sync.Cond
	size     int
	held     int
	creating atomic.Int32
	// peak is the most creates at once, and peakWhileWaiting while
	// "slow" waited.
	peak, peakWhileWaiting atomic.Int32
	waiting                atomic.Bool
}

func newCrewTarget(size int) *crewTarget {
	c := &crewTarget{memoryTarget: newMemoryTarget(), size: size}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *crewTarget) resize(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size += n
	c.cond.Broadcast()
}

func (c *crewTarget) JoinCrew(context.Context) (connectors.CrewPlace, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.held >= c.size {
		c.cond.Wait()
	}
	c.held++
	return crewPlace{c}, nil
}

type crewPlace struct{ c *crewTarget }

func (p crewPlace) Keep() bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if p.c.held <= p.c.size {
		return true
	}
	p.c.held--
	p.c.cond.Broadcast()
	return false
}

func (p crewPlace) Leave() {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.held--
	p.c.cond.Broadcast()
}

func (c *crewTarget) Create(ctx context.Context, t connectors.ObjectType, attrs connectors.Attributes) (string, error) {
	if attrs["userName"] == "slow" {
		step := connectors.RetryWaitsOf(ctx)
		c.resize(1)
		step.Waiting()
		c.waiting.Store(true)
		time.Sleep(200 * time.Millisecond)
		c.waiting.Store(false)
		step.Resumed()
		c.resize(-1)
		return c.memoryTarget.Create(ctx, t, attrs)
	}
	n := c.creating.Add(1)
	defer c.creating.Add(-1)
	raise(&c.peak, n)
	if c.waiting.Load() {
		raise(&c.peakWhileWaiting, n)
	}
	time.Sleep(2 * time.Millisecond)
	return c.memoryTarget.Create(ctx, t, attrs)
}

// raise sets peak to n when n is higher.
func raise(peak *atomic.Int32, n int32) {
	for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
	}
}

// A push step works on as many objects at once as its concurrency, or as
// the target's crew has places when fewer; while a call waits to retry,
// which makes a place in both for one more, on as many beside it.
func TestPushStepWorksWithinTheTargetsCrew(t *testing.T) {
	for _, c := range []struct{ concurrency, places int }{{2, 4}, {4, 2}} {
		w := newWorld(t)
		tg := newCrewTarget(c.places)
		w.job.Options.Concurrency = c.concurrency
		objs := []connectors.Object{user("E0", "slow", "Engineer")}
		for i := 1; i < 200; i++ {
			objs = append(objs, user(fmt.Sprint("E", i), fmt.Sprint("u", i), "Engineer"))
		}
		w.pushTo = tg
		require.Len(t, w.run(t, objs...), 200)
		require.Equal(t, int32(2), tg.peak.Load(), "%+v: creates at once", c)
		require.Equal(t, int32(2), tg.peakWhileWaiting.Load(), "%+v: creates at once beside the waiting one", c)
		require.Len(t, tg.objects, 200)
	}
}
