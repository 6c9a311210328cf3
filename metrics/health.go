package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Checker asks Temporal's frontend whether it serves: the client's
// CheckHealth.
type Checker interface {
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Worker states, as /healthz reports them.
const (
	WorkerStarting = "starting"
	WorkerPolling  = "polling"
	WorkerStopped  = "stopped"
)

// Health answers /healthz: whether the worker polls its task queue. It
// does while it started and has not stopped, and Temporal's frontend,
// asked at every request, answers.
type Health struct {
	Client Checker
	// Timeout bounds the question to Temporal; zero means 5 seconds.
	Timeout time.Duration

	mu     sync.Mutex
	state  string
	reason error
}

// Polling records that the worker started polling.
func (h *Health) Polling() { h.set(WorkerPolling, nil) }

// Stopped records that the worker stopped polling, and why when it failed.
func (h *Health) Stopped(err error) { h.set(WorkerStopped, err) }

func (h *Health) set(state string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state, h.reason = state, err
}

// HealthReport is the body of /healthz.
type HealthReport struct {
	// Status is ok when the worker polls, else unavailable (HTTP 503).
	Status string `json:"status"`
	Worker string `json:"worker"`
	// Temporal is ok, or why the frontend did not answer.
	Temporal string `json:"temporal"`
	// Error says why a stopped worker stopped.
	Error string `json:"error,omitempty"`
}

// Check reports the worker's health now.
func (h *Health) Check(ctx context.Context) HealthReport {
	h.mu.Lock()
	r := HealthReport{Worker: h.state}
	if r.Worker == "" {
		r.Worker = WorkerStarting
	}
	if h.reason != nil {
		r.Error = h.reason.Error()
	}
	h.mu.Unlock()
	r.Temporal = "ok"
	if err := h.ask(ctx); err != nil {
		r.Temporal = err.Error()
	}
	r.Status = "unavailable"
	if r.Worker == WorkerPolling && r.Temporal == "ok" {
		r.Status = "ok"
	}
	return r
}

func (h *Health) ask(ctx context.Context) error {
	if h.Client == nil {
		return errors.New("no Temporal client")
	}
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := h.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// ServeHTTP answers 200 with the report when the worker polls, 503 when not.
func (h *Health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := h.Check(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if rep.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}

// Serve serves /metrics and /healthz on addr until ctx ends, and returns
// the address it listens on; fail hears of the server stopping early.
func Serve(ctx context.Context, addr string, e *Exporter, h *Health, fail func(error)) (net.Addr, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.HTTPHandler())
	mux.Handle("GET /healthz", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(err)
		}
	}()
	return l.Addr(), nil
}
