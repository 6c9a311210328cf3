package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
)

const benchConcurrency = 16

// benchUsers numbers users across runs so every userName is new.
var benchUsers atomic.Int64

// pushConcurrently runs create b.N times on benchConcurrency goroutines and
// reports users per second.
func pushConcurrently(b *testing.B, create func(n int64) error) {
	b.Helper()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		once sync.Once
		fail error
	)
	b.ResetTimer()
	for range benchConcurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := create(benchUsers.Add(1)); err != nil {
					once.Do(func() { fail = err })
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if fail != nil {
		b.Fatal(fail)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkCreateUsers pushes users into the sample application with 16
// concurrent callers, through the Client and, as the baseline, through a
// bare net/http POST loop sending the same resource.
//
//	go test -run '^$' -bench CreateUsers -benchtime 20000x ./connectors/scim/
func BenchmarkCreateUsers(b *testing.B) {
	b.Run("client", func(b *testing.B) {
		e := setup(b, sampleapp.Options{}, Config{MaxConcurrency: benchConcurrency}, nil)
		e.rec.paused.Store(true)
		x := ctx(b)
		pushConcurrently(b, func(n int64) error {
			_, err := e.client.Create(x, connectors.User, connectors.Attributes{
				"userName":        fmt.Sprintf("user%d@example.com", n),
				"externalId":      fmt.Sprintf("emp%d", n),
				"active":          true,
				"name.givenName":  "Given",
				"name.familyName": fmt.Sprintf("Family%d", n),
				workEmail:         fmt.Sprintf("user%d@example.com", n),
				department:        "Engineering",
			})
			return err
		})
	})

	b.Run("bare-http", func(b *testing.B) {
		e := setup(b, sampleapp.Options{}, Config{}, nil)
		e.rec.paused.Store(true)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConcurrency}}
		url := e.url + "/scim/v2/Users"
		pushConcurrently(b, func(n int64) error {
			body, err := json.Marshal(map[string]any{
				"schemas":        []string{UserSchema, EnterpriseSchema},
				"userName":       fmt.Sprintf("user%d@example.com", n),
				"externalId":     fmt.Sprintf("emp%d", n),
				"active":         true,
				"name":           map[string]any{"givenName": "Given", "familyName": fmt.Sprintf("Family%d", n)},
				"emails":         []any{map[string]any{"type": "work", "value": fmt.Sprintf("user%d@example.com", n)}},
				EnterpriseSchema: map[string]any{"department": "Engineering"},
			})
			if err != nil {
				return err
			}
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
	})
}
