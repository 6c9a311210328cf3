package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
)

// A value over the limit is logged as its length and hash; values under
// it are kept whole.
func TestFitEntrySummarizesLargeValues(t *testing.T) {
	photo := strings.Repeat("/9j/4AAQSkZJRgABAQ", 700) // 12,600 bytes, as LDAP returns a thumbnailPhoto
	e := audit.Entry{Action: audit.Update, Status: audit.Success, Modified: []audit.Property{
		{Name: "title", Old: "Engineer", New: "Lead"},
		{Name: "photo", Old: "", New: photo},
		{Name: "roles", Old: strings.Repeat("r", valueLimit), New: strings.Repeat("r", valueLimit+1)},
	}}
	fitEntry(&e)
	require.Equal(t, audit.Property{Name: "title", Old: "Engineer", New: "Lead"}, e.Modified[0])
	require.Equal(t, audit.Summary(photo), e.Modified[1].New)
	require.Contains(t, e.Modified[1].New, "[12,600 bytes, sha256:")
	require.Equal(t, strings.Repeat("r", valueLimit), e.Modified[2].Old, "a value of exactly the limit is kept")
	require.True(t, audit.IsSummary(e.Modified[2].New))
}

// An entry with very many large values is brought under entryLimit by
// logging its longest values as summaries, and only as many as needed.
func TestFitEntryBoundsTheEntry(t *testing.T) {
	var e audit.Entry
	for i := range 40 {
		// "<" takes six bytes encoded: the longest are measured encoded.
		e.Modified = append(e.Modified, audit.Property{Name: fmt.Sprintf("a%02d", i), Old: strings.Repeat("o", 300+i), New: strings.Repeat("<", 600+i)})
	}
	fitEntry(&e)
	size := encodedSize(e)
	require.LessOrEqual(t, size, entryLimit)
	first := -1 // the first new value summarized
	for i, p := range e.Modified {
		require.False(t, audit.IsSummary(p.Old), "old values are shorter encoded than every new one")
		switch {
		case audit.IsSummary(p.New) && first < 0:
			first = i
		case first >= 0:
			require.True(t, audit.IsSummary(p.New), "the longest values go first")
		}
	}
	require.Greater(t, first, 0, "some values are summarized, not all")
	whole := encodedSize(strings.Repeat("<", 600+first))
	require.Greater(t, size-encodedSize(e.Modified[first].New)+whole, entryLimit, "one value fewer summarized would not fit")
}

// A reason longer than the limit (an error page quoted whole) keeps its
// start and names the rest by its length and hash, cut on a character.
func TestFitEntryBoundsTheReason(t *testing.T) {
	reason := "HTTP 500: " + strings.Repeat("é", 5000)
	e := audit.Entry{Status: audit.Failure, Reason: reason}
	fitEntry(&e)
	require.Less(t, len(e.Reason), reasonKept+200)
	require.True(t, strings.HasPrefix(e.Reason, "HTTP 500: éé"))
	require.True(t, strings.HasSuffix(e.Reason, "… "+audit.Summary(reason)))
	require.NotContains(t, e.Reason, "\ufffd")
}

// Items are taken in order while their entries fit: the result never
// outgrows its budget, whatever the concurrency, and the items left out
// are those after the last one taken, never started.
func TestParallelWithinCutsAtTheBudget(t *testing.T) {
	const n, size = 200, 10_000
	for _, concurrency := range []int{1, 8, 64} {
		var started [n]atomic.Bool
		var mu sync.Mutex
		total := 0
		taken := parallelWithin(context.Background(), concurrency, n, ResultBudget, func(i int) int {
			started[i].Store(true)
			time.Sleep(time.Duration(i%3) * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			total += size
			return size
		}, nil)
		require.Less(t, taken, n, "concurrency %d", concurrency)
		require.LessOrEqual(t, total, ResultBudget, "concurrency %d", concurrency)
		require.Greater(t, total+entryLimit, ResultBudget, "concurrency %d: the batch stops only when it is nearly full", concurrency)
		require.Equal(t, taken*size, total)
		for i := range n {
			require.Equal(t, i < taken, started[i].Load(), "concurrency %d item %d", concurrency, i)
		}
	}
}

// The first item is always taken, however large, so that every batch
// makes progress; items done earlier count as they were recorded; no
// budget takes every item.
func TestParallelWithinEdges(t *testing.T) {
	sizes := []int{3 << 20, 100, 100}
	require.Equal(t, 1, parallelWithin(context.Background(), 4, len(sizes), ResultBudget, func(i int) int { return sizes[i] }, nil))
	require.Equal(t, 3, parallelWithin(context.Background(), 4, len(sizes), 0, func(i int) int { return sizes[i] }, nil))
	require.Equal(t, 0, parallelWithin(context.Background(), 4, 0, ResultBudget, func(int) int { return 0 }, nil))

	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	taken := parallelWithin(ctx, 2, 100, ResultBudget, func(i int) int {
		if calls.Add(1) == 5 {
			cancel()
		}
		return 100
	}, nil)
	require.Less(t, taken, 100, "a cancelled context stops taking items")
}

// A batch result that stopped early says where the rest start, in the
// encoding written from the recorded entries too.
func TestBatchResultCarriesNext(t *testing.T) {
	e := audit.Entry{Job: "j", SourceID: "E1", Action: audit.Create, Status: audit.Success}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	got, err := json.Marshal(BatchResult{Entries: []audit.Entry{e}, encoded: [][]byte{b}, Next: 42})
	require.NoError(t, err)
	var back BatchResult
	require.NoError(t, json.Unmarshal(got, &back))
	require.Equal(t, 42, back.Next)
	require.Equal(t, []audit.Entry{e}, back.Entries)

	got, err = json.Marshal(BatchResult{Entries: []audit.Entry{e}, encoded: [][]byte{b}})
	require.NoError(t, err)
	require.NotContains(t, string(got), "next")
}
