package connectors

import (
	"errors"
	"fmt"
	"strings"

	"github.com/openprovisioning/provisioner/secrets"
)

// FieldError is one problem with a connector's configuration, at its field
// path relative to the connection: "baseURL", "users.container", "[1].path",
// or "" for the connection as a whole. A configuration's Validate returns
// one for every problem, joined with errors.Join; the job's validation
// roots each under the connection's own field (target.scim, source.files).
type FieldError struct {
	Field   string
	Message string
	// Err is the cause, when there is one (a file that does not exist),
	// for errors.Is and errors.As.
	Err error
}

// Error reads "field: message", or the message alone at the connection.
func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Unwrap returns the cause.
func (e FieldError) Unwrap() error { return e.Err }

// Invalid returns the problem at field, its message formatted as by
// fmt.Errorf: an error formatted with %w is its cause.
func Invalid(field, format string, args ...any) error {
	msg := fmt.Errorf(format, args...)
	return FieldError{Field: field, Message: msg.Error(), Err: errors.Unwrap(msg)}
}

// SecretProblem returns the problem of a secret, named at field, that
// could not be resolved. The errors of secrets.Ref name where the secret
// should be, never its value.
func SecretProblem(field string, err error) error {
	return FieldError{Field: field, Message: strings.TrimPrefix(err.Error(), secrets.ErrMissing.Error()+": "), Err: err}
}

// Under re-roots the problems of a nested configuration (an object type's
// settings, one file of several) under its field: each FieldError in err,
// joined or not, moves below field, and any other error becomes the
// problem of field itself, its text the message. It returns nil for nil.
func Under(field string, err error) error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var errs []error
		for _, e := range joined.Unwrap() {
			errs = append(errs, Under(field, e))
		}
		return errors.Join(errs...)
	}
	var fe FieldError
	if errors.As(err, &fe) {
		fe.Field = FieldPath(field, fe.Field)
		return fe
	}
	return FieldError{Field: field, Message: err.Error(), Err: err}
}

// FieldPath appends a field path to the path of the field holding it:
// "users" and "container" make "users.container", "files" and "[1].path"
// make "files[1].path"; either may be empty.
func FieldPath(parent, field string) string {
	switch {
	case parent == "":
		return field
	case field == "":
		return parent
	case strings.HasPrefix(field, "["):
		return parent + field
	}
	return parent + "." + field
}
