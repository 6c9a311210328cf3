package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openprovisioning/provisioner/connectors"
)

// maxDetail bounds Graph's words kept in an error.
const maxDetail = 300

// graphError is the body of a Graph error answer.
type graphError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// expiredCodes are the error codes of a delta or skip token Graph no
// longer knows: the read must start again from a full one.
var expiredCodes = map[string]bool{"syncstatenotfound": true, "syncstateinvalid": true, "resyncrequired": true}

// errDeltaExpired is matched by the error of a read whose delta token
// expired (410 Gone, syncStateNotFound, resyncRequired).
var errDeltaExpired = errors.New("the delta token expired")

// deltaExpired wraps the error of an expired token so that both
// errors.Is(err, errDeltaExpired) and errors.As(err, *connectors.Error) hold.
type deltaExpired struct{ err *connectors.Error }

func (e deltaExpired) Error() string        { return e.err.Error() }
func (e deltaExpired) Is(target error) bool { return target == errDeltaExpired }
func (e deltaExpired) Unwrap() error        { return e.err }

func kindForStatus(status int) connectors.Kind {
	if status == http.StatusForbidden {
		// The token is valid but lacks a permission (User.Read.All,
		// Application.Read.All) for the tenant's whole directory.
		return connectors.KindUnauthorized
	}
	return connectors.HTTPStatusKind(status)
}

// statusError describes a non-200 answer with Graph's code and message.
func (c *Client) statusError(op string, status int, body []byte) error {
	var ge graphError
	detail := http.StatusText(status)
	if json.Unmarshal(body, &ge) == nil && (ge.Error.Code != "" || ge.Error.Message != "") {
		detail = strings.TrimSuffix(ge.Error.Code+": "+ge.Error.Message, ": ")
	} else if text := strings.Join(strings.Fields(string(body)), " "); text != "" && utf8.Valid(body) {
		detail = text
	}
	ce := &connectors.Error{Kind: kindForStatus(status), Op: op, Status: status, Detail: connectors.Truncate(c.redact(detail), maxDetail)}
	if status == http.StatusGone || expiredCodes[strings.ToLower(ge.Error.Code)] {
		return deltaExpired{ce}
	}
	return ce
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
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &ne) && ne.Timeout():
		kind = connectors.KindTimeout
	}
	return &connectors.Error{Kind: kind, Op: op, Detail: connectors.Truncate(c.redact(err.Error()), maxDetail)}
}

// redact removes the client secret from text that may echo it, before
// connectors.Truncate could leave part of it behind.
func (c *Client) redact(s string) string {
	return connectors.Redact(s, c.secrets)
}

func itoa(n int) string { return strconv.Itoa(n) }
