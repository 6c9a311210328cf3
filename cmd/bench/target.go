package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/openprovisioning/provisioner/sampleapp"
)

// target is a fresh sample SCIM application served on a loopback port by
// this process.
type target struct {
	app *sampleapp.App
	url string // SCIM base, .../scim/v2
	srv *http.Server
}

func startTarget(token string) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String() + "/scim/v2"
	app := sampleapp.New(sampleapp.Options{Token: token, BaseURL: base})
	srv := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &target{app: app, url: base, srv: srv}, nil
}

func (t *target) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
}
