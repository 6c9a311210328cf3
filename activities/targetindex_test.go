package activities_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/scimfault"
)

// A target whose totalResults counts only the page is listed to its end:
// an object past the count is matched from the index, not created again
// on a target that does not keep externalId unique.
func TestIndexReadsPastLowTotal(t *testing.T) {
	var p *scimfault.Proxy
	w := newMatchWorldBehind(t, func(h http.Handler) http.Handler {
		p = scimfault.New(pagesOf(2, h))
		p.Set(scimfault.LowTotal)
		return p
	})
	w.job.Objects[0].Attributes[0].MatchingPriority = 0 // match by externalId only
	var last string
	for i := range 5 {
		last = w.existing(t, connectors.Attributes{"userName": fmt.Sprintf("old%d@example.com", i), "externalId": fmt.Sprintf("X%d", i)})
	}
	indexed := w.index(t).Objects
	require.Positive(t, p.Faulted())

	w.stage(t, [3]string{"X4", "new4@example.com", "Engineer"})
	e := w.provision(t)["X4"]
	require.Equal(t, 5, w.app.Stats().Users, "no duplicate")
	require.Equal(t, audit.Success, e.Status)
	require.Equal(t, audit.Update, e.Action)
	require.Equal(t, last, e.TargetID)
	require.Equal(t, 5, indexed)
}

// pagesOf makes the application answer list requests count at most.
func pagesOf(count int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("startIndex") {
			q.Set("count", fmt.Sprint(count))
			r.URL.RawQuery = q.Encode()
		}
		next.ServeHTTP(w, r)
	})
}
