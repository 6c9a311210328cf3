package ldap

import (
	"errors"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
)

// Refused credentials are the job's failure; refused rights on one entry
// (an account AdminSDHolder protects) are that object's.
func TestRefusalsAreClassified(t *testing.T) {
	for code, want := range map[uint16]connectors.Kind{
		goldap.LDAPResultInvalidCredentials:       connectors.KindUnauthorized,
		goldap.LDAPResultInsufficientAccessRights: connectors.KindForbidden,
	} {
		got := classify("LDAP modify", goldap.NewError(code, errors.New("refused")))
		if got.Kind != want || got.Status != int(code) {
			t.Errorf("result %d: got %s (%d), want %s", code, got.Kind, got.Status, want)
		}
	}
}
