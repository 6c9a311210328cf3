package file_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/file"
)

func TestConformance(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type:      connectors.User,
		PageSize:  2,
		MissingID: "e-missing",
		Open: func(t *testing.T, n int) connectors.Source {
			var b strings.Builder
			b.WriteString("employeeId,mail\n")
			for i := range n {
				fmt.Fprintf(&b, "e%d,u%d@example.org\n", i, i)
			}
			path := filepath.Join(t.TempDir(), "users.csv")
			if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := file.Config{Path: path, IDColumn: "employeeId"}.Open()
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
