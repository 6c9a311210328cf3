package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openprovisioning/provisioner/examples/hrexport"
)

const userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

// scimUser is the resource the job's mapping produces for an employee, so
// the baseline moves the same payload.
func scimUser(e *hrexport.Employee) map[string]any {
	return map[string]any{
		"schemas":     []string{userSchema, hrexport.EnterpriseSchema},
		"userName":    e.UserName,
		"externalId":  e.ID,
		"name":        map[string]any{"givenName": e.GivenName, "familyName": e.Surname},
		"displayName": e.DisplayName,
		"emails":      []any{map[string]any{"type": "work", "value": e.Email}},
		"title":       e.JobTitle,
		hrexport.EnterpriseSchema: map[string]any{
			"department": e.Department, "employeeNumber": e.ID,
		},
	}
}

// baseline POSTs users to the target from `concurrency` keep-alive
// connections, as fast as the target answers: the upper bound any
// provisioning engine can reach against it.
func baseline(ctx context.Context, t *target, token string, users []*hrexport.Employee, concurrency int) (time.Duration, error) {
	tr := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	post := func(e *hrexport.Employee) error {
		body, err := json.Marshal(scimUser(e))
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/Users", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /Users %s: %s", e.UserName, resp.Status)
		}
		return nil
	}
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(users) || ctx.Err() != nil {
					return
				}
				if err := post(users[i]); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return elapsed, firstErr
}
