// Package secrets resolves the secrets a job configuration names. A
// configuration never holds a secret itself, only where to find it, so
// workflow inputs and history carry the reference and activities resolve it.
package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Ref names where a secret is kept: an environment variable or a file.
type Ref struct {
	Env  string `json:"env,omitempty" yaml:"env,omitempty"`
	File string `json:"file,omitempty" yaml:"file,omitempty"`
	// named marks a reference decoded from JSON, as a job configuration
	// reaches the worker in a workflow's input: the authority set by
	// Restrict applies to it. References the worker builds from its
	// operator's flags (the audit sink's token, the codec's keys) are the
	// operator's own and never restricted.
	named bool
}

// UnmarshalJSON decodes a reference and marks it as named by a job
// configuration.
func (r *Ref) UnmarshalJSON(b []byte) error {
	type plain Ref
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = Ref(p)
	r.named = true
	return nil
}

// IsZero reports whether the reference names nothing.
func (r Ref) IsZero() bool { return r.Env == "" && r.File == "" }

// String describes the reference without the secret.
func (r Ref) String() string {
	switch {
	case r.Env != "":
		return "environment variable " + r.Env
	case r.File != "":
		return "file " + r.File
	}
	return "no secret"
}

// ErrMissing is matched by errors for a secret that is named but absent.
var ErrMissing = errors.New("secret is missing")

// Validate checks that exactly one place is named and that the secret is there.
func (r Ref) Validate() error {
	_, err := r.Resolve()
	return err
}

// Resolve returns the secret's value, trimmed of surrounding white space.
// A reference a job configuration named is refused, unread, when the
// authority set by Restrict does not allow it.
func (r Ref) Resolve() (string, error) {
	if r.named {
		if err := Restriction().CheckRef(r); err != nil {
			return "", err
		}
	}
	switch {
	case r.Env != "" && r.File != "":
		return "", fmt.Errorf("name either env or file, not both")
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%w: environment variable %s is not set", ErrMissing, r.Env)
		}
		return strings.TrimSpace(v), nil
	case r.File != "":
		b, err := os.ReadFile(r.File)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrMissing, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%w: file %s is empty", ErrMissing, r.File)
		}
		return v, nil
	}
	return "", fmt.Errorf("%w: name an env or a file", ErrMissing)
}
