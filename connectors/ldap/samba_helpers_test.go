package ldap

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/internal/testenv/samba"
	"github.com/openprovisioning/provisioner/secrets"
)

// sambaConnection reaches the DC over LDAPS, verifying its certificate.
func sambaConnection(dc *samba.DC) Connection {
	return Connection{URL: samba.LDAPSURL, CACertFile: dc.CACertFile, BindDN: samba.AdminDN,
		BindPassword: secrets.Ref{File: dc.AdminPasswordFile}}
}

// addADUser adds a user account; with a password it may be enabled (512),
// without one AD makes it disabled, password not required (546).
func addADUser(t testing.TB, c *goldap.Conn, dn, sam, password string, attrs map[string][]string) {
	t.Helper()
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"user"})
	req.Attribute("sAMAccountName", []string{sam})
	if password != "" {
		pw, err := unicodePwd(password)
		if err != nil {
			t.Fatal(err)
		}
		req.Attribute("unicodePwd", []string{pw})
		req.Attribute("userAccountControl", []string{"512"})
	}
	for name, vs := range attrs {
		req.Attribute(name, vs)
	}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
}

func modify(t testing.TB, c *goldap.Conn, dn string, replace map[string][]string) {
	t.Helper()
	req := goldap.NewModifyRequest(dn, nil)
	for name, vs := range replace {
		req.Replace(name, vs)
	}
	if err := c.Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}
