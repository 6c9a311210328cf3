package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/openprovisioning/provisioner/sampleapp"
)

// target is a fresh sample SCIM application served on a loopback port by
// this process, behind the fault proxy when one is given.
type target struct {
	app    *sampleapp.App
	url    string // SCIM base, .../scim/v2
	srv    *http.Server
	faults *faultProxy // nil without
}

func startTarget(token string, faults *faultSpec, seed uint64) (*target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String() + "/scim/v2"
	app := sampleapp.New(sampleapp.Options{Token: token, BaseURL: base})
	t := &target{app: app, url: base}
	handler := app.Handler()
	if faults != nil {
		t.faults = newFaultProxy(*faults, handler, seed)
		handler = t.faults
	}
	t.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

func (t *target) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
}
