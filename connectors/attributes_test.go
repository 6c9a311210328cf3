package connectors

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"department", "displayName", "givenName", "mail", "sn", "surname"}
	for _, tc := range []struct{ name, want string }{
		{"departmnet", "department"}, // a transposition is one edit
		{"Department", "department"}, // case alone
		{"givenname", "givenName"},
		{"mial", "mail"},
		{"surnam", "surname"},
		{"dispalyName", "displayName"},
		{"manager", ""}, // nothing close
		{"employeeId", ""},
		{"department", ""}, // an exact name is not its own suggestion
	} {
		if got := Closest(tc.name, names); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
