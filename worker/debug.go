package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/sirupsen/logrus"
)

// serveProfiler serves Go's profiler on a loopback address, for operators
// finding where a worker's time goes. Profiles show code, never data, but
// the endpoint is still kept off other interfaces.
func serveProfiler(addr string, log *logrus.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-debug-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-debug-listen %q: use a loopback address", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-debug-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { log.WithError(http.Serve(l, mux)).Warn("profiler stopped") }()
	log.WithField("address", l.Addr().String()).Info("profiler listening")
	return nil
}
