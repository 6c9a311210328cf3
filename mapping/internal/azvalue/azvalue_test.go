package azvalue

import "testing"

func TestConversions(t *testing.T) {
	cases := []struct {
		v       any
		empty   bool
		text    string
		textOK  bool
		display string
	}{
		{nil, true, "", false, ""},
		{"", true, "", true, ""},
		{"x", false, "x", true, "x"},
		{true, false, "True", true, "True"},
		{false, false, "False", true, "False"},
		{int64(-3), false, "-3", true, "-3"},
		{7, false, "7", true, "7"},
		{1.5, false, "1.5", true, "1.5"},
		{1e21, false, "1000000000000000000000", true, "1000000000000000000000"},
		{[]string{}, true, "", false, ""},
		{[]string{"a", "b"}, false, "", false, "a, b"},
		{struct{}{}, false, "", false, ""},
	}
	for _, tc := range cases {
		if got := IsEmpty(tc.v); got != tc.empty {
			t.Errorf("IsEmpty(%#v) = %v", tc.v, got)
		}
		if s, ok := Text(tc.v); s != tc.text || ok != tc.textOK {
			t.Errorf("Text(%#v) = %q, %v", tc.v, s, ok)
		}
		if got := Display(tc.v); got != tc.display {
			t.Errorf("Display(%#v) = %q", tc.v, got)
		}
	}
}

func TestBoolAndInt(t *testing.T) {
	bools := []struct {
		v     any
		b, ok bool
	}{
		{true, true, true}, {"TRUE", true, true}, {" false ", false, true}, {"yes", false, false}, {int64(1), false, false}, {nil, false, false},
	}
	for _, tc := range bools {
		if b, ok := Bool(tc.v); b != tc.b || ok != tc.ok {
			t.Errorf("Bool(%#v) = %v, %v", tc.v, b, ok)
		}
	}
	ints := []struct {
		v  any
		n  int64
		ok bool
	}{
		{int64(5), 5, true}, {5, 5, true}, {" -12 ", -12, true}, {"1.5", 0, false}, {2.0, 2, true}, {2.5, 0, false}, {true, 0, false}, {nil, 0, false},
	}
	for _, tc := range ints {
		if n, ok := Int(tc.v); n != tc.n || ok != tc.ok {
			t.Errorf("Int(%#v) = %v, %v", tc.v, n, ok)
		}
	}
	if !IsMulti([]string{}) || IsMulti("a") {
		t.Error("IsMulti wrong")
	}
}
