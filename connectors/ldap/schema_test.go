package ldap

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/internal/testenv/slapd"
)

func unknownOf(check connectors.AttributeCheck) []string {
	var out []string
	for _, u := range check.Unknown {
		out = append(out, u.Name+"→"+u.Suggestion)
	}
	return out
}

func TestCheckAttributesAgainstSchema(t *testing.T) {
	s := startWithUsers(t, 3, slapd.Options{})
	d := open(t, sourceConfig(s))
	check, err := d.CheckAttributes(context.Background(), connectors.User, []string{
		"mail", "MAIL", "cn;lang-en", "entryUUID", "manager", "departmentNumber", // there, whatever the case or options
		"departmnetNumber", // a typo
		"surname",          // another name of sn: values come back as sn
		"dn",               // not an attribute
		"xyzzy",            // nothing like it
	})
	if err != nil {
		t.Fatalf("CheckAttributes: %v", err)
	}
	want := []string{"departmnetNumber→departmentNumber", "surname→sn", "dn→entryDN", "xyzzy→"}
	if got := unknownOf(check); !reflect.DeepEqual(got, want) {
		t.Errorf("unknown = %v, want %v", got, want)
	}
	if !strings.Contains(check.Against, s.URL) || !strings.Contains(check.Against, "cn=Subschema") {
		t.Errorf("Against = %q, want the directory and its subschema entry", check.Against)
	}
	if r := check.Unknown[1].Reason; !strings.Contains(r, "another name of sn") {
		t.Errorf("surname: reason %q does not say it is another name of sn", r)
	}

	s.Stop()
	_, err = d.CheckAttributes(context.Background(), connectors.User, []string{"mail"})
	if errors.Is(err, connectors.ErrAttributesUnknown) {
		t.Fatalf("a directory that is down passed as one without a schema: %v", err)
	}
	wantKind(t, err, connectors.KindUnavailable)
}

func TestCheckAttributesAgainstSample(t *testing.T) {
	s := startWithUsers(t, 3, slapd.Options{})
	d := open(t, sourceConfig(s))
	have, n, err := d.sample(context.Background(), d.cfg.UserFilter)
	if err != nil || n != 3 {
		t.Fatalf("sample: %d entries, %v", n, err)
	}
	for _, a := range []string{"mail", "entryuuid", "modifytimestamp"} {
		if have[a] == "" {
			t.Errorf("the sample lacks %s: %v", a, have)
		}
	}
	// A sample is not a schema: only names close to a sampled one are
	// refused; others may just be rare.
	check := checkSample([]string{"Mail", "mial", "telephoneNumber"}, have, "a sample")
	if got, want := unknownOf(check), []string{"mial→mail"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unknown = %v, want %v", got, want)
	}
	if want := []string{"telephoneNumber"}; !reflect.DeepEqual(check.Unchecked, want) {
		t.Errorf("unchecked = %v, want %v", check.Unchecked, want)
	}
}
