package ldap

import (
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
)

func TestDeltaByModifyTimestamp(t *testing.T) { testDelta(t, DeltaModifyTimestamp) }
func TestDeltaByEntryCSN(t *testing.T)        { testDelta(t, DeltaEntryCSN) }

// testDelta: a full read of entries changed long ago, then one entry changes
// and the delta read returns that entry alone.
func testDelta(t *testing.T, delta string) {
	s := startWithUsers(t, 7, slapd.Options{})
	cfg := sourceConfig(s)
	cfg.Delta = delta
	d := open(t, cfg)
	full, _, w1 := readAll(t, d, connectors.ReadRequest{Type: connectors.User})
	if len(full) != 7 || w1 == "" {
		t.Fatalf("full read: %d objects, watermark %q", len(full), w1)
	}

	s.Modify(t, "dn: "+userDN(5)+"\nchangetype: modify\nreplace: sn\nsn: Changed\n")
	changed, _, w2 := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: w1})
	if len(changed) != 1 || changed[userDN(5)].Attributes["sn"] != "Changed" {
		t.Fatalf("delta since %s returned %v, want u5 alone", w1, keys(changed))
	}
	if w2 <= w1 {
		t.Fatalf("watermark did not advance: %s then %s", w1, w2)
	}

	// Nothing is lost by reading again from the new watermark: the entry
	// changed close to the read is sent again, which is harmless.
	again, _, w3 := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: w2})
	if _, ok := again[userDN(5)]; !ok || len(again) != 1 {
		t.Fatalf("second delta: %v", keys(again))
	}
	if w3 < w2 {
		t.Fatalf("watermark went back: %s then %s", w2, w3)
	}
}

// An entry changed during a read, after the read passed it, must be in the
// next delta even though an entry read later changed after it.
func TestDeltaKeepsChangesMadeDuringRead(t *testing.T) {
	for _, delta := range []string{DeltaModifyTimestamp, DeltaEntryCSN} {
		t.Run(delta, func(t *testing.T) {
			s := startWithUsers(t, 7, slapd.Options{})
			cfg := sourceConfig(s)
			cfg.Delta = delta
			d := open(t, cfg)
			req := connectors.ReadRequest{Type: connectors.User}
			objs := map[string]bool{}
			var watermark string
			for page := 0; ; page++ {
				p, err := d.Read(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range p.Objects {
					objs[o.Locator] = true
				}
				if page == 0 {
					// u1 was returned; u7 is read later and changes after u1.
					s.Modify(t, "dn: "+userDN(1)+"\nchangetype: modify\nreplace: sn\nsn: During\n")
					s.Modify(t, "dn: "+userDN(7)+"\nchangetype: modify\nreplace: sn\nsn: During\n")
				}
				if p.Cursor == "" {
					watermark = p.Watermark
					break
				}
				req.Cursor = p.Cursor
			}
			if !objs[userDN(1)] {
				t.Fatal("u1 should be on the first page")
			}
			next, _, _ := readAll(t, d, connectors.ReadRequest{Type: connectors.User, Since: watermark})
			if _, ok := next[userDN(1)]; !ok {
				t.Fatalf("u1's change during the read is lost: next delta since %s has %v", watermark, keys(next))
			}
		})
	}
}

func keys(m map[string]connectors.Object) []string {
	var k []string
	for dn := range m {
		k = append(k, dn)
	}
	return k
}
