package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/cputime"
	"github.com/openprovisioning/provisioner/secrets"
)

// cannedUser is what the sample application answers to a create, so the
// client benchmarks measure the client, not a service.
const cannedUser = `{"active":true,"displayName":"Given Family1","emails":[{"type":"work","value":"user1@example.com"}],"externalId":"emp1","id":"2123283d-dcc2-4fb7-ad40-a6a95dafcc5a","meta":{"resourceType":"User","created":"2026-12-04T23:52:36Z","lastModified":"2026-12-04T23:52:36Z","location":"Users/2123283d-dcc2-4fb7-ad40-a6a95dafcc5a","version":"W/\"1\""},"name":{"familyName":"Family1","givenName":"Given"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"title":"Engineer","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering","employeeNumber":"emp1"},"userName":"user1@example.com"}`

// cannedClient opens a client on a service that reads each request and
// answers a create with cannedUser and anything else with 204.
func cannedClient(b *testing.B) *Client {
	b.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, cannedUser)
	}))
	b.Cleanup(ts.Close)
	b.Setenv("SCIM_TEST_TOKEN", testToken)
	return open(b, Config{BaseURL: ts.URL, Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}})
}

// benchUser is a user as the bench job's mapping makes one.
func benchUser(n int) connectors.Attributes {
	return connectors.Attributes{
		"userName":                           fmt.Sprintf("user%d@example.com", n),
		"externalId":                         fmt.Sprintf("emp%d", n),
		"name.givenName":                     "Given",
		"name.familyName":                    fmt.Sprintf("Family%d", n),
		"displayName":                        fmt.Sprintf("Given Family%d", n),
		workEmail:                            fmt.Sprintf("user%d@example.com", n),
		"title":                              "Engineer",
		department:                           "Engineering",
		EnterpriseSchema + ":employeeNumber": fmt.Sprintf("emp%d", n),
	}
}

// BenchmarkClientCreate is one create at a time through the Client against
// a service with a canned answer: the client's own cost per create.
//
//	go test -run '^$' -bench ClientCreate -benchmem ./connectors/scim/
func BenchmarkClientCreate(b *testing.B) {
	client := cannedClient(b)
	x := ctx(b)
	users := make([]connectors.Attributes, 64)
	for i := range users {
		users[i] = benchUser(i)
	}
	cpu := startCPU(b)
	for i := range b.N {
		if _, err := client.Create(x, connectors.User, users[i%len(users)]); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report()
}

// BenchmarkBareCreate posts the same users with a bare net/http loop
// against the same service: the floor BenchmarkClientCreate compares with.
func BenchmarkBareCreate(b *testing.B) {
	client := cannedClient(b)
	hc := &http.Client{Transport: &http.Transport{}}
	bodies := make([][]byte, 64)
	for i := range bodies {
		res, err := client.buildResource(connectors.User, benchUser(i))
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(res); err != nil {
			b.Fatal(err)
		}
		bodies[i] = buf.Bytes()
	}
	url := client.cfg.BaseURL + "/Users"
	cpu := startCPU(b)
	for i := range b.N {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cpu.report()
}

// cpuClock reports the process's CPU time per op (client and canned
// service together), which a shared machine's wall clock blurs.
type cpuClock struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuClock {
	b.ReportAllocs()
	b.ResetTimer()
	return cpuClock{b, processCPU()}
}

func (c cpuClock) report() {
	c.b.StopTimer()
	c.b.ReportMetric(float64(processCPU()-c.start)/float64(c.b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	d, _ := cputime.Process()
	return d
}

// BenchmarkClientUpdate is one PATCH at a time, as BenchmarkClientCreate.
func BenchmarkClientUpdate(b *testing.B) {
	client := cannedClient(b)
	x := ctx(b)
	changes := []connectors.Change{
		{Attribute: "title", Old: "Engineer", New: "Senior Engineer"},
		{Attribute: workEmail, Old: "a@x.example", New: "b@x.example"},
		{Attribute: department, New: "Research"},
	}
	cpu := startCPU(b)
	for range b.N {
		if err := client.Update(x, connectors.User, "2123283d-dcc2-4fb7-ad40-a6a95dafcc5a", changes); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report()
}
