package httpexport_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/internal/testenv/hrreport"
)

func TestConformance(t *testing.T) {
	s := hrreport.Start(t)
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type:      connectors.User,
		PageSize:  2,
		MissingID: "99999",
		Open: func(t *testing.T, n int) connectors.Source {
			s.Set("application/json", hrreport.Workers(n, nil), fmt.Sprintf(`"n%d"`, n), "")
			c := reportConfig(t, s, "/ccx/service/customreport2/acme/ISU_HR/Workers?format=json", passwordEnv)
			c.RecordsPath = "Report_Entry"
			return open(t, c)
		},
		Unauthorized: func(t *testing.T) (connectors.Source, error) {
			c := reportConfig(t, s, "/ccx/service/customreport2/acme/ISU_HR/Workers?format=json", passwordEnv)
			c.RecordsPath = "Report_Entry"
			t.Setenv(passwordEnv, "refused-password")
			return c.Open(context.Background(), nil)
		},
	})
}
