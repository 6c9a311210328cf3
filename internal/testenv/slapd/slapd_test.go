package slapd

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestStartLoadAndModify(t *testing.T) {
	s := Start(t, Options{
		Schemas: []string{ADSchema},
		Preload: strings.NewReader("dn: uid=pre," + People + "\nobjectClass: inetOrgPerson\nobjectClass: adAccount\nuid: pre\ncn: Pre\nsn: Load\nuserAccountControl: 514\n\n"),
	})
	s.Modify(t, "dn: uid=added,"+People+"\nobjectClass: inetOrgPerson\nuid: added\ncn: Added\nsn: Over LDAP\n")
	s.Modify(t, "dn: uid=added,"+People+"\nchangetype: modify\nreplace: sn\nsn: Changed\n")

	c := s.Conn(t)
	res, err := c.Search(ldap.NewSearchRequest(People, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid", "sn", "userAccountControl", "entryUUID"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*ldap.Entry{}
	for _, e := range res.Entries {
		got[e.GetAttributeValue("uid")] = e
	}
	if len(got) != 2 || got["added"].GetAttributeValue("sn") != "Changed" ||
		got["pre"].GetAttributeValue("userAccountControl") != "514" || got["pre"].GetAttributeValue("entryUUID") == "" {
		t.Fatalf("unexpected entries: %+v", res.Entries)
	}

	s.Stop()
	if _, err := ldap.DialURL(s.URL); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

func TestTLS(t *testing.T) {
	s := Start(t, Options{TLS: true})
	pemBytes, err := os.ReadFile(s.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	trusted := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}

	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(trusted))
	if err != nil {
		t.Fatalf("ldaps with the test CA: %v", err)
	}
	if err := c.Bind(RootDN, s.RootPW); err != nil {
		t.Fatalf("bind over ldaps: %v", err)
	}
	c.Close()

	c, err = ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(trusted); err != nil {
		t.Fatalf("StartTLS with the test CA: %v", err)
	}
}
