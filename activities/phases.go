package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/config"
	"github.com/openprovisioning/provisioner/store"
)

// PhaseInput asks for one page of a phase that runs after a cycle's object
// batches: memberships, then references. The phase's to-do list is in the
// state store (store.PendingWork); the cursor says where the page starts.
type PhaseInput struct {
	Job    config.Job  `json:"job"`
	Cycle  store.Cycle `json:"cycle"`
	Cursor PhaseCursor `json:"cursor"`
}

// PhaseCursor is where a phase resumes: the object type (an index into the
// types the phase handles) and the last source ID handled.
type PhaseCursor struct {
	Type  int    `json:"type,omitempty"`
	After string `json:"after,omitempty"`
}

// PhaseResult holds one page's provisioning log entries, kept in workflow
// history like a batch's, and where the next page starts.
type PhaseResult struct {
	Entries []audit.Entry `json:"entries"`
	Next    PhaseCursor   `json:"next"`
	Done    bool          `json:"done,omitempty"`
}

// phasePage is how many objects one phase call handles: a group can take
// many requests, so pages are those of the push steps.
func phasePage(job *config.Job) int { return job.Options.WithDefaults().BatchSize }

// heartbeatQuiet is how long a page or batch runs before it heartbeats:
// each heartbeat is a write on the Temporal server, and a call that ends
// well within its heartbeat timeout needs none.
const heartbeatQuiet = 10 * time.Second

// parallel calls fn for 0..n-1 with at most limit calls at once, and
// heartbeats as they finish. It stops starting calls once ctx is done.
func parallel(ctx context.Context, limit, n int, fn func(i int)) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		done    int
		next    = make(chan int)
		started = time.Now()
	)
	for w := 0; w < min(limit, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
				mu.Lock()
				done++
				if time.Since(started) > heartbeatQuiet {
					activity.RecordHeartbeat(ctx, done)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}
