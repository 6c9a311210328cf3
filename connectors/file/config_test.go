package file

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
)

func TestValidate(t *testing.T) {
	csvPath := writeFile(t, "hr.csv", "\uFEFFid,name,status\n1,Ann,active\n")
	jsonPath := writeFile(t, "hr.json", `[{"id": "1", "name": "Ann"}]`)
	jsonlPath := writeFile(t, "hr.jsonl", "\n{\"id\": \"1\"}\n")
	txtPath := writeFile(t, "export.txt", "id\tname\n1\tAnn\n")
	missing := filepath.Join(t.TempDir(), "missing.csv")
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error, one per problem; none for valid
	}{
		{"valid csv", Config{Path: csvPath, IDColumn: "id", DisabledColumn: "status", DisabledValues: []string{"Inactive"}}, nil},
		{"valid json", Config{Path: jsonPath, IDColumn: "id"}, nil},
		{"valid jsonl", Config{Path: jsonlPath, IDColumn: "id"}, nil},
		{"format for another extension", Config{Path: txtPath, Format: "CSV", Delimiter: "\t", IDColumn: "id"}, nil},
		{"nothing set", Config{}, []string{"path: required", "idColumn: required"}},
		{"missing file", Config{Path: missing, IDColumn: "id"}, []string{"path: open " + missing + ": no such file or directory"}},
		{"unknown id column", Config{Path: csvPath, IDColumn: "x"}, []string{`idColumn: column "x" not in the header of ` + csvPath}},
		{"unknown other columns", Config{Path: csvPath, IDColumn: "id", DisabledColumn: "state", MembersColumn: "members"}, []string{
			`disabledColumn: column "state" not in the header of`, `membersColumn: column "members" not in the header of`}},
		{"json id field", Config{Path: jsonPath, IDColumn: "employeeId"}, []string{`idColumn: field "employeeId" not in the first record of`}},
		{"unknown extension", Config{Path: "export.txt", IDColumn: "id"}, []string{`format: cannot tell the format from the name "export.txt"`}},
		{"bad format", Config{Path: csvPath, Format: "xml", IDColumn: "id"}, []string{`format: "xml" is not csv, json or jsonl`}},
		{"bad delimiter", Config{Path: csvPath, IDColumn: "id", Delimiter: ";;"}, []string{`delimiter: ";;" must be one character`}},
		{"bad type", Config{Path: csvPath, IDColumn: "id", Type: "user"}, []string{`type: "user" is not User or Group`}},
		{"json that is lines", Config{Path: jsonlPath, Format: "json", IDColumn: "id"}, []string{"path: " + jsonlPath + ": not a JSON array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			connectortest.Problems(t, err)
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d is %q, want it to start with %q", i+1, lines[i], w)
				}
			}
		})
	}
}

// Each file of a set names its fields below its place in the list.
func TestSetValidateNamesEachFile(t *testing.T) {
	csvPath := writeFile(t, "hr.csv", "id,name\n1,Ann\n")
	err := Set{{Path: csvPath, IDColumn: "x"}, {Format: "csv", IDColumn: "id"}}.Validate()
	got := connectortest.Problems(t, err)
	want := []connectors.FieldError{
		{Field: "[0].idColumn", Message: `column "x" not in the header of ` + csvPath},
		{Field: "[1].path", Message: "required"},
		{Field: "[1].type", Message: "source.files[0] already holds User objects; use one file per object type"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if err := (Set{}).Validate(); err == nil || err.Error() != "list at least one file" {
		t.Fatalf("an empty set: %v", err)
	}
}

func TestValidateKeepsTheCause(t *testing.T) {
	err := Config{Path: filepath.Join(t.TempDir(), "none.csv"), IDColumn: "id"}.Validate()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("errors.Is(%v, fs.ErrNotExist) is false", err)
	}
}

func TestOpenDoesNotNeedTheFile(t *testing.T) {
	if _, err := (Config{Path: filepath.Join(t.TempDir(), "later.csv"), IDColumn: "id"}).Open(); err != nil {
		t.Fatal(err)
	}
	if _, err := (Config{Path: "x.csv"}).Open(); err == nil || err.Error() != "idColumn: required" {
		t.Fatalf("got %v", err)
	}
}
