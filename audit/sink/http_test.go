package sink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/audit/sink"
	"github.com/openprovisioning/provisioner/internal/testenv/logcollector"
	"github.com/openprovisioning/provisioner/secrets"
)

// Entries go as newline-delimited JSON batches, each with an idempotency
// key that names the job, the unit and the batch, and the bearer token
// read from where the operator keeps it.
func TestHTTPBatches(t *testing.T) {
	c := logcollector.Start(t)
	t.Setenv("SINK_TEST_TOKEN", "s3cret")
	h, err := sink.NewHTTP(sink.HTTPOptions{URL: c.URL + "/ingest", Token: secrets.Ref{Env: "SINK_TEST_TOKEN"}, BatchEntries: 5})
	require.NoError(t, err)
	u := sink.Unit{Job: "hr", ID: "1-abc_run", Time: time.Now()}
	entries := unitEntries(u, 12)
	var saved []sink.Checkpoint
	n, err := sink.Export(context.Background(), []sink.Sink{h}, u, nil, (&reader{entries: entries}).read, func(cp sink.Checkpoint) { saved = append(saved, cp) })
	require.NoError(t, err)
	require.Equal(t, 12, n)
	require.Equal(t, map[string]int{"hr/1-abc_run/1": 1, "hr/1-abc_run/2": 1, "hr/1-abc_run/3": 1}, c.Posts())
	require.Equal(t, changeIDs(entries[:5]), changeIDs(c.Batch("hr/1-abc_run/1")))
	require.Equal(t, changeIDs(entries[10:]), changeIDs(c.Batch("hr/1-abc_run/3")))
	require.Equal(t, []string{"Bearer s3cret", "Bearer s3cret", "Bearer s3cret"}, c.Headers("Authorization"))
	require.Equal(t, "application/x-ndjson", c.Headers("Content-Type")[0])
	name := h.Name()
	require.Equal(t, []sink.Checkpoint{{name: 1}, {name: 2}, {name: 3}, {name: -1}}, saved)
}

// An export that died after some batches goes on from its checkpoint;
// one whose checkpoint was lost posts the same batches again under the
// same keys, for the collector to drop. Either way every entry is kept
// once, and busy answers are retried after Retry-After.
func TestHTTPResumesAndRepeatsAlike(t *testing.T) {
	c := logcollector.Start(t)
	busy := 0
	c.Answer = func(w http.ResponseWriter, _ *http.Request, key string, n int) bool {
		if key == "hr/2-abc_run/2" && n == 1 {
			busy++
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	h, err := sink.NewHTTP(sink.HTTPOptions{URL: c.URL, BatchEntries: 4})
	require.NoError(t, err)
	u := sink.Unit{Job: "hr", ID: "2-abc_run", Time: time.Now()}
	r := &reader{entries: unitEntries(u, 14), failAfter: 9}
	var last sink.Checkpoint
	save := func(cp sink.Checkpoint) { last = cp }

	_, err = sink.Export(context.Background(), []sink.Sink{h}, u, nil, r.read, save)
	require.ErrorContains(t, err, "history read failed")
	require.Equal(t, sink.Checkpoint{h.Name(): 2}, last)
	require.Equal(t, 1, busy)

	r.failAfter = 0
	_, err = sink.Export(context.Background(), []sink.Sink{h}, u, last, r.read, save)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"hr/2-abc_run/1": 1, "hr/2-abc_run/2": 2, "hr/2-abc_run/3": 1, "hr/2-abc_run/4": 1}, c.Posts(),
		"batch 2 was retried once after the 503; none was posted again after the checkpoint")

	var kept []audit.Entry
	for i := 1; i <= 4; i++ {
		kept = append(kept, c.Batch(fmt.Sprintf("hr/2-abc_run/%d", i))...)
	}
	require.Equal(t, changeIDs(r.entries), changeIDs(kept))
	// The checkpoint lost: every batch goes again, alike.
	alike := 0
	c.Answer = func(w http.ResponseWriter, r *http.Request, key string, _ int) bool {
		var ids []string
		dec := json.NewDecoder(r.Body)
		for e := (audit.Entry{}); dec.Decode(&e) == nil; {
			ids = append(ids, e.ChangeID)
		}
		if slices.Equal(ids, changeIDs(c.Batch(key))) {
			alike++
		}
		return false
	}
	_, err = sink.Export(context.Background(), []sink.Sink{h}, u, nil, r.read, save)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"hr/2-abc_run/1": 2, "hr/2-abc_run/2": 3, "hr/2-abc_run/3": 2, "hr/2-abc_run/4": 2}, c.Posts())
	require.Equal(t, 4, alike, "the same entries under the same keys")
}

// A refused batch fails the export with the collector's answer, and
// never with the token.
func TestHTTPRefused(t *testing.T) {
	c := logcollector.Start(t)
	c.Answer = func(w http.ResponseWriter, _ *http.Request, _ string, _ int) bool {
		http.Error(w, "unknown token", http.StatusUnauthorized)
		return true
	}
	t.Setenv("SINK_TEST_TOKEN", "s3cret")
	h, err := sink.NewHTTP(sink.HTTPOptions{URL: c.URL, Token: secrets.Ref{Env: "SINK_TEST_TOKEN"}})
	require.NoError(t, err)
	u := sink.Unit{Job: "hr", ID: "3-abc_run", Time: time.Now()}
	_, err = sink.Export(context.Background(), []sink.Sink{h}, u, nil, (&reader{entries: unitEntries(u, 3)}).read, nothingSaved)
	require.ErrorContains(t, err, "401 Unauthorized: unknown token")
	require.NotContains(t, err.Error(), "s3cret")
	require.Equal(t, 1, c.Posts()["hr/3-abc_run/1"], "a refusal is not retried by the client")

	_, err = sink.NewHTTP(sink.HTTPOptions{URL: "ftp://collector"})
	require.ErrorContains(t, err, "http:// or https://")
	_, err = sink.NewHTTP(sink.HTTPOptions{URL: c.URL, Token: secrets.Ref{Env: "SINK_TEST_UNSET"}})
	require.ErrorContains(t, err, "SINK_TEST_UNSET")
}

// With a folder and an endpoint, a retry after the folder took the unit
// but the endpoint failed sends only what the endpoint misses.
func TestExportToBothSinks(t *testing.T) {
	c := logcollector.Start(t)
	down := true
	c.Answer = func(w http.ResponseWriter, _ *http.Request, _ string, _ int) bool {
		if down {
			http.Error(w, "bad gateway config", http.StatusBadRequest)
		}
		return down
	}
	dir := t.TempDir()
	d, err := sink.NewDir(dir)
	require.NoError(t, err)
	h, err := sink.NewHTTP(sink.HTTPOptions{URL: c.URL})
	require.NoError(t, err)
	u := sink.Unit{Job: "hr", ID: "4-abc_run", Time: time.Now()}
	r := &reader{entries: unitEntries(u, 3)}
	var last sink.Checkpoint
	_, err = sink.Export(context.Background(), []sink.Sink{d, h}, u, nil, r.read, func(cp sink.Checkpoint) { last = cp })
	require.ErrorContains(t, err, "HTTP endpoint")
	require.Equal(t, sink.Checkpoint{d.Name(): -1}, last)
	require.Len(t, readAll(t, dir, "hr", time.Time{}), 3)

	down = false
	_, err = sink.Export(context.Background(), []sink.Sink{d, h}, u, last, r.read, func(cp sink.Checkpoint) { last = cp })
	require.NoError(t, err)
	require.Len(t, readAll(t, dir, "hr", time.Time{}), 3)
	require.Equal(t, changeIDs(r.entries), changeIDs(c.Batch("hr/4-abc_run/1")))
}
