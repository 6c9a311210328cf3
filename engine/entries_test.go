package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	encoded := FitEntry(&e)
	require.Equal(t, string(mustMarshal(t, e)), string(encoded), "the encoding returned is the entry's")
	require.Equal(t, audit.Property{Name: "title", Old: "Engineer", New: "Lead"}, e.Modified[0])
	require.Equal(t, audit.Summary(photo), e.Modified[1].New)
	require.Contains(t, e.Modified[1].New, "[12,600 bytes, sha256:")
	require.Equal(t, strings.Repeat("r", valueLimit), e.Modified[2].Old, "a value of exactly the limit is kept")
	require.True(t, audit.IsSummary(e.Modified[2].New))
}

// An entry with very many large values is brought under EntryLimit by
// logging its longest values as summaries, and only as many as needed.
func TestFitEntryBoundsTheEntry(t *testing.T) {
	var e audit.Entry
	for i := range 40 {
		// "<" takes six bytes encoded: the longest are measured encoded.
		e.Modified = append(e.Modified, audit.Property{Name: fmt.Sprintf("a%02d", i), Old: strings.Repeat("o", 300+i), New: strings.Repeat("<", 600+i)})
	}
	encoded := FitEntry(&e)
	size := EncodedSize(e)
	require.LessOrEqual(t, size, EntryLimit)
	require.JSONEq(t, string(mustMarshal(t, e)), string(encoded), "the encoding returned is the fitted entry's")
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
	whole := EncodedSize(strings.Repeat("<", 600+first))
	require.Greater(t, size-EncodedSize(e.Modified[first].New)+whole, EntryLimit, "one value fewer summarized would not fit")
}

// An entry's properties may be those of the operation recorded before its
// push: fitting the entry shortens a copy, and leaves the operation's
// values as they were pushed.
func TestFitEntryLeavesSharedPropertiesAlone(t *testing.T) {
	photo := strings.Repeat("/9j/4AAQSkZJRgABAQ", 700)
	var many []audit.Property
	for i := range 40 {
		many = append(many, audit.Property{Name: fmt.Sprintf("a%02d", i), New: strings.Repeat("v", 1000+i)})
	}
	for name, props := range map[string][]audit.Property{
		"a value over the limit":  {{Name: "photo", New: photo}, {Name: "title", New: "Lead"}},
		"an entry over its limit": many,
	} {
		t.Run(name, func(t *testing.T) {
			recorded := slices.Clone(props)
			e := audit.Entry{Action: audit.Create, Status: audit.Success, Modified: props}
			FitEntry(&e)
			require.Equal(t, recorded, props, "the shared properties are unchanged")
			require.NotEqual(t, recorded, e.Modified, "the entry's are shortened")
		})
	}
}

// A reason longer than the limit (an error page quoted whole) keeps its
// start and names the rest by its length and hash, cut on a character.
func TestFitEntryBoundsTheReason(t *testing.T) {
	reason := "HTTP 500: " + strings.Repeat("é", 5000)
	e := audit.Entry{Status: audit.Failure, Reason: reason}
	FitEntry(&e)
	require.Less(t, len(e.Reason), reasonKept+200)
	require.True(t, strings.HasPrefix(e.Reason, "HTTP 500: éé"))
	require.True(t, strings.HasSuffix(e.Reason, "… "+audit.Summary(reason)))
	require.NotContains(t, e.Reason, "\ufffd")
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// EncodedSize measures entries and strings as json.Marshal encodes them.
func TestEncodedSizeIsMarshal(t *testing.T) {
	odd := "<&>\u2028\x00\xff é"
	entry := &audit.Entry{Job: odd, Action: audit.Create, Status: audit.Success, Reason: odd,
		Modified: []audit.Property{{Name: "n", Old: odd, New: "v"}}, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	for _, v := range []any{entry, (*audit.Entry)(nil), &audit.Entry{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, odd, "", []audit.Property{{Name: odd}}} {
		b, _ := json.Marshal(v)
		require.Equal(t, len(b), EncodedSize(v), "%#v", v)
	}
}
