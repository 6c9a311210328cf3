package main

import (
	"strings"
	"testing"
)

// A store URL is logged without its password or parameters.
func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://prov:s3cret@db.example.org:5432/provisioning?sslmode=verify-full": "postgres://db.example.org:5432/provisioning",
		"postgresql://db/provisioning": "postgresql://db/provisioning",
		"postgres://prov:s3cret@[::1":  "postgres://(unreadable URL)",
	} {
		if got := safeURL(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
	}
}
