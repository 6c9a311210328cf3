package samba_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/internal/testenv/samba"
)

func TestDomainController(t *testing.T) {
	dc := samba.Start(t)
	c := dc.Conn(t)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"highestCommittedUSN", "dsServiceName", "defaultNamingContext"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	root := res.Entries[0]
	if root.GetAttributeValue("defaultNamingContext") != samba.Base || root.GetAttributeValue("highestCommittedUSN") == "" {
		t.Fatalf("rootDSE: %v", root.Attributes)
	}

	// As in AD, a simple bind is refused without TLS.
	plain, err := ldap.DialURL(samba.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.Bind(samba.AdminDN, dc.AdminPassword); !ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired) {
		t.Fatalf("simple bind without TLS: %v, want strong authentication required", err)
	}
}

// Two DCs in a row reuse the ports: the first stops before the second starts.
func TestDomainControllersOneAfterAnother(t *testing.T) {
	for range 2 {
		t.Run("", func(t *testing.T) {
			dc := samba.Start(t)
			dc.AddOU(t, "OU=Staff,"+samba.Base) // a fresh domain each time: no conflict
		})
	}
}
