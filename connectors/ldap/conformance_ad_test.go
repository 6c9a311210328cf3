package ldap_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/internal/testenv/samba"
	"github.com/openprovisioning/provisioner/secrets"
)

// adDomain is one DC for a whole conformance suite; each object set lives in
// an OU of its own.
type adDomain struct {
	dc  *samba.DC
	ous atomic.Int32
}

func (d *adDomain) conn() ldap.Connection {
	return ldap.Connection{URL: samba.LDAPSURL, CACertFile: d.dc.CACertFile, BindDN: samba.AdminDN,
		BindPassword: secrets.Ref{File: d.dc.AdminPasswordFile}}
}

func (d *adDomain) wrongPassword(t *testing.T) ldap.Connection {
	c := d.conn()
	c.BindPassword = secrets.Ref{File: filepath.Join(t.TempDir(), "wrong")}
	if err := os.WriteFile(c.BindPassword.File, []byte("Not-the-Passw0rd"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// ou makes a new OU holding n enabled users.
func (d *adDomain) ou(t *testing.T, n int) string {
	run := d.ous.Add(1)
	ou := fmt.Sprintf("OU=Run%d,%s", run, samba.Base)
	d.dc.AddOU(t, ou)
	c := d.dc.Conn(t)
	for i := range n {
		req := goldap.NewAddRequest(fmt.Sprintf("CN=User %d,%s", i, ou), nil)
		req.Attribute("objectClass", []string{"user"})
		// sAMAccountName is unique in the whole domain.
		req.Attribute("sAMAccountName", []string{fmt.Sprintf("r%d-u%d", run, i)})
		req.Attribute("userAccountControl", []string{"544"})
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	return ou
}

func TestConformanceActiveDirectorySource(t *testing.T) {
	d := &adDomain{dc: samba.Start(t)}
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type:      connectors.User,
		PageSize:  2,
		MissingID: missingID,
		Open: func(t *testing.T, n int) connectors.Source {
			cfg := ldap.Config{Connection: d.conn(), Dialect: ldap.ActiveDirectory, BaseDNs: []string{d.ou(t, n)}, PageSize: 2}
			s, err := cfg.Open(context.Background(), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Unauthorized: func(t *testing.T) (connectors.Source, error) {
			cfg := ldap.Config{Connection: d.wrongPassword(t), Dialect: ldap.ActiveDirectory, BaseDNs: []string{samba.Base}}
			return cfg.Open(context.Background(), quietLog())
		},
	})
}

func TestConformanceActiveDirectoryTarget(t *testing.T) {
	d := &adDomain{dc: samba.Start(t)}
	target := func(c ldap.Connection, ou string) ldap.TargetConfig {
		return ldap.TargetConfig{Connection: c, Dialect: ldap.ActiveDirectory,
			Users: ldap.ObjectConfig{Container: ou, DNTemplate: "CN={cn}"}}
	}
	connectortest.TestTarget(t, connectortest.TargetHarness{
		Type: connectors.User,
		// AD makes up the domain-unique sAMAccountName of accounts that
		// come without one, so each object set's OU may hold the same names.
		Key: "cn",
		Object: func(i int) connectors.Attributes {
			return connectors.Attributes{"cn": fmt.Sprintf("Target %d", i), "sn": "Target"}
		},
		MissingID: missingID,
		Open: func(t *testing.T) connectors.Target {
			tg, err := target(d.conn(), d.ou(t, 0)).Open(context.Background(), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return tg
		},
		Unauthorized: func(t *testing.T) (connectors.Target, error) {
			return target(d.wrongPassword(t), samba.Base).Open(context.Background(), quietLog())
		},
	})
}
