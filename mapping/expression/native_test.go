package expression

import "testing"

// A multi-valued attribute read back from the state store is a []any.
func TestFromNativeListThroughJSON(t *testing.T) {
	v := FromNative([]any{"Admin", "Reader"})
	if got := v.Values(); len(got) != 2 || got[0] != "Admin" || got[1] != "Reader" {
		t.Errorf("FromNative([]any) = %v, want the two strings", got)
	}
	if !FromNative([]any{1.0}).IsNull() {
		t.Error("a list of numbers is not a list of strings")
	}
}
