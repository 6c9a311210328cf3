// Command sampleapp runs the sample SCIM application: SCIM 2.0 under
// /scim/v2 with a bearer token, and a page listing users and groups at /.
//
//	SAMPLEAPP_TOKEN=secret sampleapp -listen 127.0.0.1:8080
package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/sirupsen/logrus"
)

func main() {
	var (
		listen     = flag.String("listen", "127.0.0.1:8080", "address to listen on")
		tokenEnv   = flag.String("token-env", "SAMPLEAPP_TOKEN", "environment variable holding the bearer token")
		maxResults = flag.Int("max-results", 1000, "most resources in one list response")
		faultRate  = flag.Float64("fault-rate", 0, "share of SCIM requests answered 503 or 429 (0..1)")
		faultSeed  = flag.Uint64("fault-seed", 1, "seed of the fault sequence")
		retryAfter = flag.Duration("retry-after", time.Second, "Retry-After sent with injected faults")
		baseURL    = flag.String("base-url", "", "absolute URL of /scim/v2 as clients reach it (default http://<listen>/scim/v2)")
	)
	flag.Parse()
	log := logrus.NewEntry(logrus.StandardLogger())

	token := strings.TrimSpace(os.Getenv(*tokenEnv))
	if token == "" {
		log.Fatalf("environment variable %s is not set; it must hold the bearer token", *tokenEnv)
	}
	if *baseURL == "" {
		*baseURL = "http://" + *listen + "/scim/v2"
	}
	app := sampleapp.New(sampleapp.Options{
		BaseURL:    *baseURL,
		Token:      token,
		MaxResults: *maxResults,
		FaultRate:  *faultRate,
		FaultSeed:  *faultSeed,
		RetryAfter: *retryAfter,
	})
	srv := &http.Server{Addr: *listen, Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed := make(chan error, 1)
	go func() { failed <- srv.ListenAndServe() }()
	log.WithFields(logrus.Fields{"listen": *listen, "scim": *baseURL}).Info("sample SCIM application started")

	select {
	case err := <-failed:
		log.WithError(err).Fatal("server failed")
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.WithError(err).Warn("shutdown")
	}
}
