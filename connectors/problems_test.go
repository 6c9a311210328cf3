package connectors

import (
	"errors"
	"io/fs"
	"reflect"
	"testing"
)

func TestUnderReRootsNestedProblems(t *testing.T) {
	inner := errors.Join(
		Invalid("container", "%q is not a DN", "x"),
		Invalid("", "the object type as a whole"),
		errors.New("a: plain text, not parsed"),
	)
	err := Under("[1]", Under("users", inner))
	var got []FieldError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		got = append(got, e.(FieldError))
	}
	for i := range got {
		got[i].Err = nil
	}
	want := []FieldError{
		{Field: "[1].users.container", Message: `"x" is not a DN`},
		{Field: "[1].users", Message: "the object type as a whole"},
		{Field: "[1].users", Message: "a: plain text, not parsed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if Under("users", nil) != nil {
		t.Fatal("no problems re-rooted must stay nil")
	}
}

func TestFieldErrorKeepsItsCause(t *testing.T) {
	err := Under("[0]", Invalid("path", "%w", fs.ErrNotExist))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("errors.Is(%v, fs.ErrNotExist) is false", err)
	}
	if got := err.Error(); got != "[0].path: "+fs.ErrNotExist.Error() {
		t.Fatalf("got %q", got)
	}
}

func TestFieldPath(t *testing.T) {
	for _, tc := range []struct{ parent, field, want string }{
		{"target.ldap", "users.container", "target.ldap.users.container"},
		{"source.files", "[2].path", "source.files[2].path"},
		{"source.files", "", "source.files"},
		{"", "schedule.cron", "schedule.cron"},
	} {
		if got := FieldPath(tc.parent, tc.field); got != tc.want {
			t.Errorf("FieldPath(%q, %q) = %q, want %q", tc.parent, tc.field, got, tc.want)
		}
	}
}
