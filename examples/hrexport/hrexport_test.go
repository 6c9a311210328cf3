package hrexport

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode"
)

func TestExampleFileIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../hr-users.csv")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteCSV(&got, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("examples/hr-users.csv is stale: run go run ./examples/gen -n 1000 -o examples/hr-users.csv")
	}
}

func TestGenerate(t *testing.T) {
	staff := Generate(5000, 7)
	byID := map[string]int{}
	users := map[string]bool{}
	inactive, contractors := 0, 0
	for i, e := range staff {
		byID[e.ID] = i
		if users[e.UserName] {
			t.Errorf("%s: user name %s taken twice", e.ID, e.UserName)
		}
		users[e.UserName] = true
		local, _, _ := strings.Cut(e.UserName, "@")
		for _, r := range local {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.') {
				t.Errorf("%s: user name %q is not folded to ASCII", e.ID, e.UserName)
			}
		}
		switch {
		case i == 0 && e.ManagerID != "":
			t.Errorf("the chief executive has manager %s", e.ManagerID)
		case i > 0:
			m, ok := byID[e.ManagerID]
			if !ok || m >= i {
				t.Errorf("%s: manager %q is not an earlier employee", e.ID, e.ManagerID)
			}
		}
		if e.Status == "Inactive" {
			inactive++
		}
		if e.EmployeeType == "Contractor" {
			contractors++
		}
	}
	if inactive < 100 || inactive > 200 {
		t.Errorf("%d of 5000 inactive, want about 3%%", inactive)
	}
	if contractors == 0 {
		t.Error("no contractors")
	}
	again := Generate(5000, 7)
	for i := range staff {
		if staff[i] != again[i] {
			t.Fatalf("row %d differs between two runs with one seed", i+1)
		}
	}
}

// Every accented letter in the name lists must have an ASCII spelling.
func TestFoldCoversNames(t *testing.T) {
	for _, name := range append(append([]string{}, givenNames...), surnames...) {
		for _, r := range strings.ToLower(name) {
			if r > unicode.MaxASCII && unicode.IsLetter(r) && folds[r] == "" {
				t.Errorf("%s: no ASCII spelling for %q", name, r)
			}
		}
		if asciiFold(name) == "" {
			t.Errorf("%s folds to nothing", name)
		}
	}
}
