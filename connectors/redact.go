package connectors

import (
	"strings"
	"unicode/utf8"
)

// Redact removes secrets from text that may echo them, such as an error a
// service answered with. It runs before Truncate, which could otherwise
// leave part of a secret behind.
func Redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}

// Truncate shortens s to at most max bytes, cut at a character boundary
// and marked, so a service's long answer stays readable in an error.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
