package ldap

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
)

// adGUID is the i-th test account's objectGUID as AD stores it: the first
// three fields little-endian.
func adGUID(i int) []byte {
	return []byte{byte(i), 0x33, 0x22, 0x11, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
}

// adLDIF imitates AD accounts on OpenLDAP with slapd.ADSchema: objectGUID,
// userAccountControl (512 enabled, 514 disabled) and uSNChanged.
func adLDIF() string {
	var b strings.Builder
	for i, uac := range []int{512, 514, 66048, 66050} { // 0x10000 = password never expires
		fmt.Fprintf(&b, "dn: uid=ad%d,%s\nobjectClass: inetOrgPerson\nobjectClass: adAccount\nuid: ad%d\ncn: AD %d\nsn: %d\n"+
			"sAMAccountName: ad%d\nobjectGUID:: %s\nuserAccountControl: %d\nuSNChanged: %d\n\n",
			i, slapd.People, i, i, i, i, base64.StdEncoding.EncodeToString(adGUID(i)), uac, 100+i)
	}
	return b.String()
}

func TestActiveDirectoryStyle(t *testing.T) {
	s := slapd.Start(t, slapd.Options{Schemas: []string{slapd.ADSchema}, Preload: strings.NewReader(adLDIF())})
	cfg := sourceConfig(s)
	cfg.Dialect = ActiveDirectory
	cfg.UserFilter = "(objectClass=adAccount)" // AD's objectCategory is not in the test schema
	d := open(t, cfg)

	objs, _, watermark := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Attributes: []string{"sAMAccountName", "objectGUID"}})
	if len(objs) != 4 {
		t.Fatalf("%d objects, want 4", len(objs))
	}
	for i, disabled := range []bool{false, true, false, true} {
		o := objs[fmt.Sprintf("uid=ad%d,%s", i, slapd.People)]
		wantID := fmt.Sprintf("112233%02x-4455-6677-8899-aabbccddeeff", i)
		if o.ID != wantID || o.Attributes["objectGUID"] != wantID {
			t.Errorf("ad%d: ID %q, objectGUID %v, want %s", i, o.ID, o.Attributes["objectGUID"], wantID)
		}
		if o.Disabled != disabled {
			t.Errorf("ad%d: Disabled %v, want %v (userAccountControl %v)", i, o.Disabled, disabled, o.Attributes["userAccountControl"])
		}
	}
	// Without highestCommittedUSN in the rootDSE the watermark is just
	// above the highest uSNChanged seen.
	if watermark != "104" {
		t.Fatalf("watermark %q, want 104", watermark)
	}

	s.Modify(t, "dn: uid=ad2,"+slapd.People+"\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n"+
		"-\nreplace: uSNChanged\nuSNChanged: 200\n")
	changed, _, next := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: watermark})
	ad2 := changed["uid=ad2,"+slapd.People]
	if len(changed) != 1 || !ad2.Disabled {
		t.Fatalf("delta since %s: %v (ad2 %+v)", watermark, keys(changed), ad2)
	}
	if next != "201" {
		t.Fatalf("next watermark %q, want 201", next)
	}

	// Writeback finds the entry by its GUID.
	if err := d.Write(t.Context(), connectors.User, ad2.ID, connectors.Attributes{"mail": "ad2@example.org"}); err != nil {
		t.Fatal(err)
	}
	if got := searchOne(t, s.Conn(t), "uid=ad2,"+slapd.People, "mail").GetAttributeValue("mail"); got != "ad2@example.org" {
		t.Fatalf("mail after writeback %q", got)
	}
}
