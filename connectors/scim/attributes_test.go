package scim

import (
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/sampleapp"
	"github.com/openprovisioning/provisioner/secrets"
)

const ent = EnterpriseSchema + ":"

func TestCheckAttributesAgainstSchemas(t *testing.T) {
	e := setup(t, sampleapp.Options{}, Config{}, nil)
	src := &Source{Client: e.client}
	// Paths a read returns values at.
	present := []string{
		"userName", "active", "id", "externalId", "title", "name.givenName",
		`emails[type eq "work"].value`, `emails[primary eq true].value`, `phoneNumbers[type eq "mobile"].value`,
		ent + "department", ent + "manager",
	}
	check, err := src.CheckAttributes(ctx(t), connectors.User, present)
	if err != nil {
		t.Fatalf("CheckAttributes: %v", err)
	}
	if len(check.Unknown) > 0 {
		t.Errorf("refused paths reads return: %+v", check.Unknown)
	}
	if !strings.Contains(check.Against, e.url+"/scim/v2/Schemas") || !strings.Contains(check.Against, EnterpriseSchema) {
		t.Errorf("Against = %q, want /Schemas and the enterprise extension", check.Against)
	}

	// Paths a read never returns values at, with what to write instead.
	for path, want := range map[string]string{
		"usrName":                      "userName",
		"username":                     "userName", // values are keyed by the service's spelling
		"name.givenNmae":               "name.givenName",
		`emials[type eq "work"].value`: `emails[type eq "work"].value`,
		`emails[type eq "work"].valeu`: `emails[type eq "work"].value`,
		"department":                   ent + "department", // an extension attribute without its URN
		"departmnet":                   ent + "department",
		ent + "departmnet":             ent + "department",
		strings.Replace(ent, ":User:", ":Usr:", 1) + "department": ent + "department",
		UserSchema + ":userName":                                  "userName", // core attributes are read bare
		ent + "manager.value":                                     ent + "manager",
		`emails[type  eq "work"].value`:                           `emails[type eq "work"].value`,
		"emails.value":                                            "",
		"name":                                                    "",
		`emails[display eq "x"].value`:                            "",
		`userName[type eq "x"].value`:                             "",
		"xyzzy":                                                   "",
	} {
		check, err := src.CheckAttributes(ctx(t), connectors.User, []string{path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(check.Unknown) != 1 {
			t.Errorf("%s: not refused", path)
			continue
		}
		if got := check.Unknown[0].Suggestion; got != want {
			t.Errorf("%s: suggestion %q, want %q (reason %q)", path, got, want, check.Unknown[0].Reason)
		}
		if want == "" && check.Unknown[0].Reason == "" && path != "xyzzy" {
			t.Errorf("%s: refused without a reason", path)
		}
	}

	check, err = src.CheckAttributes(ctx(t), connectors.Group, []string{"displayName", "dispalyName", "userName"})
	if err != nil {
		t.Fatalf("groups: %v", err)
	}
	var got []string
	for _, u := range check.Unknown {
		got = append(got, u.Name+"→"+u.Suggestion)
	}
	if want := []string{"dispalyName→displayName", "userName→"}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups: unknown = %v, want %v", got, want)
	}
}

func TestCheckAttributesWithoutSchemas(t *testing.T) {
	// A service that does not serve /Schemas leaves the names unchecked.
	e := setup(t, sampleapp.Options{}, Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Schemas") {
				http.NotFound(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	src := &Source{Client: e.client}
	_, err := src.CheckAttributes(ctx(t), connectors.User, []string{"userName"})
	if !errors.Is(err, connectors.ErrAttributesUnknown) || !strings.Contains(err.Error(), "/Schemas") {
		t.Fatalf("err = %v, want ErrAttributesUnknown naming /Schemas", err)
	}

	// A service that cannot be reached is not one without a schema.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	src = &Source{Client: open(t, Config{BaseURL: "http://" + addr + "/scim/v2", Token: secrets.Ref{Env: "SCIM_TEST_TOKEN"}, MaxRetries: 1})}
	_, err = src.CheckAttributes(ctx(t), connectors.User, []string{"userName"})
	if errors.Is(err, connectors.ErrAttributesUnknown) || connectors.KindOf(err) != connectors.KindUnavailable || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v, want Unavailable naming %s", err, addr)
	}
}
