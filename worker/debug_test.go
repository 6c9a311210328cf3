package main

import (
	"io"
	"testing"

	"github.com/sirupsen/logrus"
)

// The profiler listens on loopback only.
func TestServeProfilerLoopbackOnly(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	for _, addr := range []string{"0.0.0.0:0", "10.1.2.3:6060", ":6060", "nonsense"} {
		if err := serveProfiler(addr, log); err == nil {
			t.Errorf("%s: want a refusal", addr)
		}
	}
	if err := serveProfiler("127.0.0.1:0", log); err != nil {
		t.Fatal(err)
	}
}
