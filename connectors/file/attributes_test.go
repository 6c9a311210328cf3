package file

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// unknownNames checks names against the source and returns the unknown
// ones with their suggestions, as "name→suggestion".
func unknownNames(t *testing.T, s *Source, names ...string) ([]string, connectors.AttributeCheck) {
	t.Helper()
	check, err := s.CheckAttributes(context.Background(), connectors.User, names)
	if err != nil {
		t.Fatalf("CheckAttributes: %v", err)
	}
	var out []string
	for _, u := range check.Unknown {
		out = append(out, u.Name+"→"+u.Suggestion)
	}
	return out, check
}

func TestCheckAttributesCSVHeader(t *testing.T) {
	p := writeFile(t, "hr.csv", "\uFEFFemployeeId; department ;mail\nE1;Sales;a@example.org\n")
	s := open(t, Config{Path: p, IDColumn: "employeeId", Delimiter: ";"})
	got, check := unknownNames(t, s, "employeeId", "department", "departmnet", "Mail", "manager")
	want := []string{"departmnet→department", "Mail→mail", "manager→"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unknown = %v, want %v", got, want)
	}
	if !strings.Contains(check.Against, "header of "+p) {
		t.Errorf("Against = %q, want it to name the header of %s", check.Against, p)
	}
}

func TestCheckAttributesJSONFields(t *testing.T) {
	// A field that only later records have is there: exports leave out
	// empty fields.
	var b strings.Builder
	b.WriteString("[")
	for i := range 50 {
		fmt.Fprintf(&b, `{"id":"E%d","department":"Sales"},`, i)
	}
	b.WriteString(`7, {"id":"E99","department":"Sales","terminationDate":"2024-01-31"}]`)
	s := open(t, Config{Path: writeFile(t, "hr.json", b.String()), IDColumn: "id"})
	got, _ := unknownNames(t, s, "id", "terminationDate", "departmnet")
	if want := []string{"departmnet→department"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unknown = %v, want %v", got, want)
	}

	s = open(t, Config{Path: writeFile(t, "hr.jsonl", "{\"id\":\"E1\"}\nnot json\n\n{\"id\":\"E2\",\"mail\":\"b@example.org\"}\n"), IDColumn: "id"})
	got, _ = unknownNames(t, s, "mail", "mial")
	if want := []string{"mial→mail"}; !reflect.DeepEqual(got, want) {
		t.Errorf("JSON Lines: unknown = %v, want %v", got, want)
	}
}

func TestCheckAttributesEmptyJSON(t *testing.T) {
	// With no record there is nothing to compare with: not checked, not refused.
	s := open(t, Config{Path: writeFile(t, "hr.json", "[]"), IDColumn: "id"})
	_, err := s.CheckAttributes(context.Background(), connectors.User, []string{"mail"})
	if !errors.Is(err, connectors.ErrAttributesUnknown) {
		t.Fatalf("err = %v, want ErrAttributesUnknown", err)
	}
	if _, err := s.CheckAttributes(context.Background(), connectors.Group, []string{"mail"}); err == nil {
		t.Error("a type the file does not hold was checked")
	}
}
