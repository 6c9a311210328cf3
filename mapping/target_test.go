package mapping

import "testing"

func TestCheckTarget(t *testing.T) {
	valid := []string{
		"userName",
		"name.givenName",
		"sAMAccountName",
		"msDS-cloudExtensionAttribute1",
		"extension_0123abc_department",
		`emails[type eq "work"].value`,
		`phoneNumbers[type eq "mobile"].value`,
		`addresses[type eq "other"].Formatted`,
		`roles[primary eq "True"].value`,
		`roles[primary eq true]`,
		`emails[type eq "work" and primary eq true].value`,
		`emails[value co "\"]"].value`,
		`members[value pr]`,
		`x[n ge -1.5]`,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
		"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:CustomAttribute",
		`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
		"members.$ref",
	}
	for _, p := range valid {
		if err := checkTarget(p); err != nil {
			t.Errorf("checkTarget(%q): %v", p, err)
		}
	}
	invalid := []string{
		"",
		"1userName",
		"user name",
		"name.",
		"name..x",
		`emails[type eq "work"`,
		`emails[type eq work].value`,
		`emails[type equals "work"].value`,
		`emails[type eq "work" also x eq 1].value`,
		`emails[].value`,
		`emails[type eq "work].value`,
		`emails[type eq "work"]value`,
		"urn::x:department",
		"urn:ietf:params:scim: bad:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
		`x[n ge -]`,
	}
	for _, p := range invalid {
		if err := checkTarget(p); err == nil {
			t.Errorf("checkTarget(%q) accepted", p)
		}
	}
}
