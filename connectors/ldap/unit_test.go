package ldap

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openprovisioning/provisioner/connectors/connectortest"
	"github.com/openprovisioning/provisioner/secrets"
)

func TestConfigValidateNamesTheField(t *testing.T) {
	t.Setenv("LDAP_TEST_PW", "x")
	good := Config{Connection: Connection{URL: "ldaps://dc1.example.org", BindDN: "cn=svc,dc=example,dc=org",
		BindPassword: secrets.Ref{Env: "LDAP_TEST_PW"}}, BaseDNs: []string{"dc=example,dc=org"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, breakIt := range map[string]func(*Config){
		"url:":                    func(c *Config) { c.URL = "http://dc1" },
		"startTLS:":               func(c *Config) { c.StartTLS = true },
		"bindDN:":                 func(c *Config) { c.BindDN = "not a dn" },
		"bindPassword:":           func(c *Config) { c.BindPassword = secrets.Ref{} },
		"bindPassword: env":       func(c *Config) { c.BindPassword = secrets.Ref{Env: "LDAP_TEST_UNSET"} },
		"idAttribute:":            func(c *Config) { c.IDAttribute = "uid)(x" },
		"dialect:":                func(c *Config) { c.Dialect = "novell" },
		"baseDNs:":                func(c *Config) { c.BaseDNs = nil },
		"baseDNs[1]:":             func(c *Config) { c.BaseDNs = append(c.BaseDNs, "x") },
		"userFilter:":             func(c *Config) { c.UserFilter = "(uid=" },
		"delta:":                  func(c *Config) { c.Delta = "whenChanged" },
		"pageSize:":               func(c *Config) { c.PageSize = -1 },
		"memberRangeSize:":        func(c *Config) { c.MemberRangeSize = -1 },
		"disabledAttribute:":      func(c *Config) { c.DisabledValues = []string{"TRUE"} },
		"referenceAttributes[0]:": func(c *Config) { c.ReferenceAttributes = []string{"manager)"} },
		"referenceAttributes[1]:": func(c *Config) { c.ReferenceAttributes = []string{"manager", "Member"} },
	} {
		c := good
		c.BaseDNs = append([]string(nil), good.BaseDNs...)
		breakIt(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("want an error starting %q, got %v", field, err)
		}
		connectortest.Problems(t, err)
	}
	// AD also binds as user@domain and DOMAIN\user.
	for _, name := range []string{"svc@corp.example.org", `CORP\svc`} {
		c := good
		c.BindDN = name
		if err := c.Validate(); err != nil {
			t.Errorf("bindDN %s: %v", name, err)
		}
	}
	// Every problem is reported, one per line.
	if err := (Config{}).Validate(); err == nil || len(strings.Split(err.Error(), "\n")) != 2 {
		t.Errorf("an empty configuration lacks url and baseDNs: %v", err)
	}
}

func TestTargetConfigValidate(t *testing.T) {
	good := TargetConfig{Connection: Connection{URL: "ldap://localhost"},
		Users: ObjectConfig{Container: "ou=people,dc=example,dc=org", DNTemplate: "uid={uid}", ObjectClasses: []string{"inetOrgPerson"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, breakIt := range map[string]func(*TargetConfig){
		"users.container:":     func(c *TargetConfig) { c.Users.Container = "" },
		"users.dnTemplate:":    func(c *TargetConfig) { c.Users.DNTemplate = "uid=fixed" },
		"users.objectClasses:": func(c *TargetConfig) { c.Users.ObjectClasses = []string{"a b"} },
		"users.disableValue:":  func(c *TargetConfig) { c.Users.DisableAttribute = "employeeType" },
		"groups.dnTemplate:": func(c *TargetConfig) {
			c.Groups = ObjectConfig{Container: "dc=x", DNTemplate: "cn={cn", ObjectClasses: []string{"groupOfNames"}}
		},
		"idAttribute:":            func(c *TargetConfig) { c.IDAttribute = "(uid=*)" },
		"users.disableAttribute:": func(c *TargetConfig) { c.Users.EnableValue = "512" },
		"referenceAttributes[0]:": func(c *TargetConfig) { c.ReferenceAttributes = []string{"entryUUID"} },
		"users.disableMask:": func(c *TargetConfig) {
			c.Users.DisableAttribute, c.Users.DisableValue, c.Users.DisableMask = "userAccountControl", "514", 2
		},
		"users.enableValue:": func(c *TargetConfig) {
			c.Users.DisableAttribute, c.Users.DisableMask, c.Users.EnableValue = "userAccountControl", 2, "yes"
		},
		"users.parentAttribute:": func(c *TargetConfig) { c.Users.ParentAttribute = "parent DN" },
		"dialect:":               func(c *TargetConfig) { c.Dialect = "novell" },
	} {
		c := good
		breakIt(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("want an error starting %q, got %v", field, err)
		}
		connectortest.Problems(t, err)
	}
}

// The activedirectory dialect fills in what AD needs: objectGUID, the user
// and group classes, and userAccountControl's ACCOUNTDISABLE bit.
func TestTargetConfigActiveDirectoryDefaults(t *testing.T) {
	c := TargetConfig{Connection: Connection{URL: "ldaps://dc1"}, Dialect: ActiveDirectory,
		Users:  ObjectConfig{Container: "ou=staff,dc=example,dc=org", DNTemplate: "cn={cn}"},
		Groups: ObjectConfig{Container: "ou=groups,dc=example,dc=org", DNTemplate: "cn={cn}"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.withDefaults()
	if d.IDAttribute != "objectGUID" || d.Users.ObjectClasses[0] != "user" || d.Groups.ObjectClasses[0] != "group" ||
		d.Users.DisableAttribute != "userAccountControl" || d.Users.DisableMask != 2 {
		t.Fatalf("defaults %+v", d)
	}
}

// The documented YAML and JSON shapes decode into the same configuration.
func TestConfigShape(t *testing.T) {
	const y = `
url: ldaps://dc1.example.org
bindDN: cn=svc,dc=example,dc=org
bindPassword: {env: LDAP_PASSWORD}
caCertFile: ca.pem
timeout: 10s
dialect: activedirectory
baseDNs: [ "ou=staff,dc=example,dc=org" ]
pageSize: 1000
`
	var fromYAML, fromJSON Config
	if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil {
		t.Fatal(err)
	}
	j := `{"url":"ldaps://dc1.example.org","bindDN":"cn=svc,dc=example,dc=org","bindPassword":{"env":"LDAP_PASSWORD"},
		"caCertFile":"ca.pem","timeout":"10s","dialect":"activedirectory","baseDNs":["ou=staff,dc=example,dc=org"],"pageSize":1000}`
	if err := json.Unmarshal([]byte(j), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if fromYAML.URL != "ldaps://dc1.example.org" || fromYAML.BindPassword.Env != "LDAP_PASSWORD" || fromYAML.Timeout != Duration(10*time.Second) {
		t.Fatalf("yaml: %+v", fromYAML)
	}
	a, _ := json.Marshal(fromYAML)
	b, _ := json.Marshal(fromJSON)
	if !bytes.Equal(a, b) {
		t.Fatalf("yaml and json differ:\n%s\n%s", a, b)
	}
	d := fromYAML.withDefaults()
	if d.IDAttribute != "objectGUID" || d.Delta != DeltaUSNChanged || d.DisabledAttribute != "userAccountControl" || d.DisabledMask != 2 {
		t.Fatalf("AD defaults: %+v", d)
	}
}

func TestGUID(t *testing.T) {
	raw := []byte{0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	s, err := formatGUID(raw)
	if err != nil || s != "12345678-9abc-def0-0123-456789abcdef" {
		t.Fatalf("formatGUID: %q %v", s, err)
	}
	back, err := parseGUID(strings.ToUpper(s))
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("parseGUID: %x %v", back, err)
	}
	if f, _ := (idCodec{"objectGUID"}).filter(s); f != `(objectGUID=\78\56\34\12\bc\9a\f0\de\01\23\45\67\89\ab\cd\ef)` {
		t.Fatalf("GUID filter %s", f)
	}
	if _, err := parseGUID("12345678-9abc-def0-0123-456789abcde"); err == nil {
		t.Fatal("short GUID accepted")
	}
	if _, err := formatGUID(raw[:15]); err == nil {
		t.Fatal("15 bytes accepted")
	}
}

func TestNextWatermark(t *testing.T) {
	for _, tc := range []struct{ kind, since, max, limit, want string }{
		// Changes long before the read: just above the highest seen.
		{DeltaModifyTimestamp, "", "20200101000000Z", "20250101000000Z", "20200101000001Z"},
		{DeltaModifyTimestamp, "", "20200101000000.5Z", "", "20200101000001Z"},
		{DeltaModifyTimestamp, "", "20200101020000+0200", "", "20200101000001Z"},
		// Changes close to the read: capped.
		{DeltaModifyTimestamp, "", "20250101000009Z", "20250101000000Z", "20250101000000Z"},
		// Never behind the previous watermark; unchanged when nothing was seen.
		{DeltaModifyTimestamp, "20250101000005Z", "20250101000009Z", "20250101000000Z", "20250101000005Z"},
		{DeltaModifyTimestamp, "20250101000005Z", "", "20250101000000Z", "20250101000005Z"},
		{DeltaEntryCSN, "", "20200101000000.000007Z#000000#000#000000", "", "20200101000000.000007Z#000000#000#000001"},
		{DeltaEntryCSN, "", "20250101000000.000007Z#000000#000#000000", "20240101000000.000000Z#000000#000#000000",
			"20240101000000.000000Z#000000#000#000000"},
		{DeltaUSNChanged, "", "104", "", "105"},
		{DeltaUSNChanged, "90", "104", "101", "101"},
	} {
		if got := nextWatermark(tc.kind, tc.since, tc.max, tc.limit); got != tc.want {
			t.Errorf("nextWatermark(%s, %q, %q, %q) = %q, want %q", tc.kind, tc.since, tc.max, tc.limit, got, tc.want)
		}
	}
	if got := higher(DeltaUSNChanged, "9", "10"); got != "10" {
		t.Errorf("USNs compare as numbers: %s", got)
	}
	if got := higher(DeltaModifyTimestamp, "20200101000000Z", "garbage"); got != "20200101000000Z" {
		t.Errorf("a malformed value is ignored: %s", got)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{Session: "S", Base: 1, Count: 7, Anchor: "uid=a,dc=x", Max: "20200101000000Z", Limit: "x"}
	back, err := decodeCursor(c.encode())
	if err != nil || back != c {
		t.Fatalf("%+v %v", back, err)
	}
	for _, bad := range []string{"!", "e30", "eyJzIjoiUyIsIm4iOi0xfQ"} { // not base64, {}, negative count
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestDNTemplate(t *testing.T) {
	o := ObjectConfig{Container: "ou=people,dc=example,dc=org", DNTemplate: "cn={cn}"}
	dn, err := o.dnFor("test", map[string]any{"CN": "Doe, Jane+1"})
	if err != nil || dn != `cn=Doe\, Jane\+1,ou=people,dc=example,dc=org` {
		t.Fatalf("%q %v", dn, err)
	}
	o.DNTemplate = "uid={uid},OU=People,dc=example,dc=org"
	if dn, _ := o.dnFor("test", map[string]any{"uid": "j"}); dn != "uid=j,OU=People,dc=example,dc=org" {
		t.Fatalf("a template under the container is used as it is: %q", dn)
	}
	if rdn, parent := splitDN(`cn=Doe\, Jane,ou=x,dc=y`); rdn != `cn=Doe\, Jane` || parent != "ou=x,dc=y" {
		t.Fatalf("splitDN: %q %q", rdn, parent)
	}
}
