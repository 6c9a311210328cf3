package httpexport_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
)

func TestConformance(t *testing.T) {
	s := newReportServer(t)
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type:      connectors.User,
		PageSize:  2,
		MissingID: "99999",
		Open: func(t *testing.T, n int) connectors.Source {
			s.set("application/json", workers(n, nil), fmt.Sprintf(`"n%d"`, n), "")
			c := s.config(t, "/ccx/service/customreport2/acme/ISU_HR/Workers?format=json", passwordEnv)
			c.RecordsPath = "Report_Entry"
			return open(t, c)
		},
		Unauthorized: func(t *testing.T) (connectors.Source, error) {
			c := s.config(t, "/ccx/service/customreport2/acme/ISU_HR/Workers?format=json", passwordEnv)
			c.RecordsPath = "Report_Entry"
			t.Setenv(passwordEnv, "refused-password")
			return c.Open(context.Background(), nil)
		},
	})
}
