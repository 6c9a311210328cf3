package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStarterIsAClientOfTheContract keeps the starter on package api: it
// imports no activity code, and the workflows only to replay histories.
func TestStarterIsAClientOfTheContract(t *testing.T) {
	const module = "github.com/openprovisioning/provisioner/"
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == module+"activities" || strings.HasPrefix(p, module+"activities/"):
				t.Errorf("%s imports %s: what a client reads is in package api", path, p)
			case p == module+"workflows" && path != "replay.go":
				t.Errorf("%s imports %s: only replay needs the workflow code; a client uses package api", path, p)
			}
		}
	}
}
