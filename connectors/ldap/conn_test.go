package ldap

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
	"github.com/openprovisioning/provisioner/secrets"
)

func TestUnreachableIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Connection: Connection{URL: "ldap://" + addr, BindDN: slapd.RootDN, BindPassword: secrets.Ref{File: pw}, Timeout: Duration(2 * time.Second)},
		BaseDNs:    []string{slapd.People},
	}
	_, err = cfg.Open(context.Background(), testLog())
	wantKind(t, err, connectors.KindUnavailable)
}

func TestDirectoryGoneMidReadIsUnavailable(t *testing.T) {
	s := startWithUsers(t, 5, slapd.Options{})
	d := open(t, sourceConfig(s))
	p, err := d.Read(context.Background(), connectors.ReadRequest{Type: connectors.User})
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	_, err = d.Read(context.Background(), connectors.ReadRequest{Type: connectors.User, Cursor: p.Cursor})
	wantKind(t, err, connectors.KindUnavailable)
}

func TestWrongPasswordIsUnauthorized(t *testing.T) {
	s := slapd.Start(t, slapd.Options{})
	const wrong = "not-the-password-4711"
	t.Setenv("LDAP_TEST_PASSWORD", wrong)
	cfg := sourceConfig(s)
	cfg.BindPassword = secrets.Ref{Env: "LDAP_TEST_PASSWORD"}
	_, err := cfg.Open(context.Background(), testLog())
	ce := wantKind(t, err, connectors.KindUnauthorized)
	if ce.Status != 49 || strings.Contains(err.Error(), wrong) {
		t.Fatalf("want result 49 and no password in %q", err)
	}

	cfg.BindPassword = secrets.Ref{Env: "LDAP_TEST_PASSWORD_UNSET"}
	_, err = cfg.Open(context.Background(), testLog())
	wantKind(t, err, connectors.KindUnauthorized)
}

func TestTLSVerification(t *testing.T) {
	s := startWithUsers(t, 1, slapd.Options{TLS: true})
	base := sourceConfig(s)
	for _, tc := range []struct {
		name      string
		configure func(*Config)
		ok        bool
	}{
		{"ldaps trusted", func(c *Config) { c.URL, c.CACertFile = s.LDAPSURL, s.CACertFile }, true},
		{"ldaps untrusted", func(c *Config) { c.URL = s.LDAPSURL }, false},
		{"ldaps unverified", func(c *Config) { c.URL, c.InsecureSkipVerify = s.LDAPSURL, true }, true},
		{"starttls trusted", func(c *Config) { c.StartTLS, c.CACertFile = true, s.CACertFile }, true},
		{"starttls untrusted", func(c *Config) { c.StartTLS = true }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.configure(&cfg)
			d, err := cfg.Open(context.Background(), testLog())
			if !tc.ok {
				ce := wantKind(t, err, connectors.KindUnavailable)
				if !strings.Contains(ce.Detail, "certificate") {
					t.Fatalf("the error should say why: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			objs, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User})
			if len(objs) != 1 {
				t.Fatalf("%d objects over TLS", len(objs))
			}
		})
	}
}
