package ldap_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/connectors/ldap"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/secrets"
)

const missingID = "00000000-0000-0000-0000-000000000000"

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// conn is a connection to s as its administrator.
func conn(s *slapd.Server) ldap.Connection {
	return ldap.Connection{URL: s.URL, BindDN: slapd.RootDN, BindPassword: secrets.Ref{File: s.RootPWFile}}
}

// wrongPassword is conn with a password the server refuses.
func wrongPassword(t *testing.T, s *slapd.Server) ldap.Connection {
	c := conn(s)
	c.BindPassword = secrets.Ref{File: filepath.Join(t.TempDir(), "wrong")}
	if err := os.WriteFile(c.BindPassword.File, []byte("not-the-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func people(n int) *strings.Reader {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=u%d,%s\nobjectClass: inetOrgPerson\nuid: u%d\ncn: User %d\nsn: %d\n\n", i, slapd.People, i, i, i)
	}
	return strings.NewReader(b.String())
}

func sourceConfig(c ldap.Connection) ldap.Config {
	return ldap.Config{Connection: c, BaseDNs: []string{slapd.People}, PageSize: 2}
}

func TestConformanceSource(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{
		Type:      connectors.User,
		PageSize:  2,
		MissingID: missingID,
		Open: func(t *testing.T, n int) connectors.Source {
			s := slapd.Start(t, slapd.Options{Preload: people(n)})
			d, err := sourceConfig(conn(s)).Open(context.Background(), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Unauthorized: func(t *testing.T) (connectors.Source, error) {
			s := slapd.Start(t, slapd.Options{})
			return sourceConfig(wrongPassword(t, s)).Open(context.Background(), quietLog())
		},
	})
}

func targetConfig(c ldap.Connection) ldap.TargetConfig {
	return ldap.TargetConfig{
		Connection: c,
		Users:      ldap.ObjectConfig{Container: slapd.People, DNTemplate: "uid={uid}", ObjectClasses: []string{"inetOrgPerson"}},
	}
}

func TestConformanceTarget(t *testing.T) {
	connectortest.TestTarget(t, connectortest.TargetHarness{
		Type: connectors.User,
		Key:  "uid",
		Object: func(i int) connectors.Attributes {
			return connectors.Attributes{"uid": fmt.Sprintf("t%d", i), "cn": fmt.Sprintf("Target %d", i), "sn": "Target"}
		},
		MissingID: missingID,
		Open: func(t *testing.T) connectors.Target {
			s := slapd.Start(t, slapd.Options{})
			tg, err := targetConfig(conn(s)).Open(context.Background(), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return tg
		},
		Unauthorized: func(t *testing.T) (connectors.Target, error) {
			s := slapd.Start(t, slapd.Options{})
			return targetConfig(wrongPassword(t, s)).Open(context.Background(), quietLog())
		},
	})
}
