package scim

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/connectors"
)

// maxDetail bounds the service's words kept in an error.
const maxDetail = 300

// authError is a failure to obtain credentials for a request (an OAuth
// token endpoint refusing the client). It is not retried.
type authError struct{ err error }

func (e *authError) Error() string { return "obtaining an access token: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// statusError describes a non-2xx answer, with the SCIM error's scimType
// and detail when the body is one.
func (c *Client) statusError(op string, status int, body []byte) *connectors.Error {
	return &connectors.Error{
		Kind:   connectors.HTTPStatusKind(status),
		Op:     op,
		Status: status,
		Detail: connectors.Truncate(c.redact(errorDetail(status, body)), maxDetail),
	}
}

func errorDetail(status int, body []byte) string {
	var e struct {
		ScimType string `json:"scimType"`
		Detail   string `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Detail != "" || e.ScimType != "") {
		if e.ScimType == "" {
			return e.Detail
		}
		return strings.TrimSuffix(e.ScimType+": "+e.Detail, ": ")
	}
	if text := strings.Join(strings.Fields(string(body)), " "); text != "" && utf8.Valid(body) {
		return text
	}
	return http.StatusText(status)
}

// authSchemes names the schemes a 401 answer's WWW-Authenticate headers
// ask for, without their parameters (a realm, an error description that
// may quote the token sent): what an operator needs to tell a wrong token
// from a wrong kind of credentials.
func authSchemes(h http.Header) string {
	var schemes []string
	for _, v := range h.Values("WWW-Authenticate") {
		// A challenge starts with its scheme; its parameters (name=value,
		// values maybe quoted and holding commas) follow.
		for _, part := range splitOutsideQuotes(v) {
			f := strings.Fields(part)
			if len(f) > 0 && !strings.ContainsAny(f[0], `="`) {
				schemes = append(schemes, f[0])
			}
		}
	}
	if len(schemes) == 0 {
		return " (no WWW-Authenticate header)"
	}
	return " (WWW-Authenticate: " + strings.Join(schemes, ", ") + ")"
}

// splitOutsideQuotes splits a header value at the commas outside quoted
// strings.
func splitOutsideQuotes(v string) []string {
	var (
		parts           []string
		start           int
		quoted, escaped bool
	)
	for i, r := range v {
		switch {
		case escaped:
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

// transportError describes a request that got no answer.
func (c *Client) transportError(op string, err error) *connectors.Error {
	kind := connectors.KindUnavailable
	var (
		ne net.Error
		ae *authError
	)
	switch {
	case errors.As(err, &ae):
		kind = connectors.KindUnauthorized
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &ne) && ne.Timeout():
		kind = connectors.KindTimeout
	}
	return &connectors.Error{Kind: kind, Op: op, Detail: connectors.Truncate(c.redact(err.Error()), maxDetail)}
}

// incompatible reports an answer that breaks the protocol.
func (c *Client) incompatible(op string, status int, detail string) *connectors.Error {
	return &connectors.Error{Kind: connectors.KindServiceIncompatible, Op: op, Status: status, Detail: connectors.Truncate(c.redact(detail), maxDetail)}
}

// invalid reports a request the client refuses to send.
func invalid(op, detail string) *connectors.Error {
	return &connectors.Error{Kind: connectors.KindInvalidRequest, Op: op, Detail: detail}
}

// redact removes the client's secrets from text that may echo them. It runs
// before connectors.Truncate, which could otherwise leave part of a secret behind.
func (c *Client) redact(s string) string {
	return connectors.Redact(s, c.secrets)
}
