package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReadmeDocumentsContract fails when a name is added to the contract
// without its place in the README's "Client contract" section, which
// services in other languages read: every signal, query and update has its
// row in the table, and every other string constant, search attribute and
// type is named in the section.
func TestReadmeDocumentsContract(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := contractSection(t, string(readme))
	consts, types := contractNames(t)
	if len(consts) == 0 || len(types) == 0 {
		t.Fatal("no constants or types found in package api")
	}
	for ident, value := range consts {
		switch {
		case strings.HasPrefix(ident, "Signal"), strings.HasPrefix(ident, "Query"), strings.HasPrefix(ident, "Update"):
			row := regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta("`"+value+"`") + ` \|`)
			if !row.MatchString(section) {
				t.Errorf("api.%s (%q) has no row in the README's Client contract table", ident, value)
			}
		case !strings.Contains(section, "`"+value+"`"):
			t.Errorf("api.%s (%q) is not named in the README's Client contract section", ident, value)
		}
	}
	for _, name := range types {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("type api.%s is not named in the README's Client contract section", name)
		}
	}
}

// contractSection returns the README's "Client contract" section, up to the
// next heading of its level or above.
func contractSection(t *testing.T, readme string) string {
	heading := regexp.MustCompile(`(?m)^(#+) Client contract\s*$`).FindStringSubmatchIndex(readme)
	if heading == nil {
		t.Fatal(`README.md has no "Client contract" heading`)
	}
	level := heading[3] - heading[2]
	rest := readme[heading[1]:]
	next := regexp.MustCompile(`(?m)^#{1,` + strconv.Itoa(level) + `} `).FindStringIndex(rest)
	if next != nil {
		rest = rest[:next[0]]
	}
	return rest
}

// contractNames reads package api's exported string constants and the
// string arguments of its exported variables (search attribute names) by
// identifier, and its exported types.
func contractNames(t *testing.T) (consts map[string]string, types []string) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts = map[string]string{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						types = append(types, s.Name.Name)
					}
				case *ast.ValueSpec:
					for i, name := range s.Names {
						if !name.IsExported() || i >= len(s.Values) {
							continue
						}
						ast.Inspect(s.Values[i], func(n ast.Node) bool {
							if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
								v, err := strconv.Unquote(lit.Value)
								if err != nil {
									t.Fatal(err)
								}
								consts[name.Name] = v
							}
							return true
						})
					}
				}
			}
		}
	}
	return consts, types
}
