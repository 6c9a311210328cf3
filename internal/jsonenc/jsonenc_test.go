package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// oddStrings are strings encoding/json escapes, or is tempted to.
var oddStrings = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"\x00\x01\x07\b\f\n\r\t\x1f\x7f", "\u2028\u2029", "caf\u00e9 \u65e5\u672c \U0001F600",
	"\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "trailing \xe2\x80",
	"\ufffd", "\xe2\x80\xa8x\xe2\x80\xa9",
}

// encodingJSON is what encoding/json makes of v, with or without HTML
// escaping.
func encodingJSON(v any, escapeHTML bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	err := enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func TestAppendStringIsEncodingJSON(t *testing.T) {
	for _, s := range oddStrings {
		for _, html := range []bool{true, false} {
			want, _ := encodingJSON(s, html)
			if got := AppendString(nil, s, html); !bytes.Equal(got, want) {
				t.Errorf("AppendString(%q, %v) = %s, encoding/json makes %s", s, html, got, want)
			}
		}
	}
	for c := range 256 {
		s := string([]byte{byte(c)})
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, json.Marshal makes %s", s, got, want)
		}
	}
}

// A byte that needs a look is found wherever it stands in the words
// AppendString passes over eight bytes at a time, beside bytes one more
// or less than it (which a borrow between bytes could confuse).
func TestAppendStringFindsEveryByteInAWord(t *testing.T) {
	const plainRun = "abcdefghijklmnopq"
	for c := range 256 {
		for at := range len(plainRun) {
			for _, next := range []int{'a', c - 1, c + 1} {
				b := []byte(plainRun)
				b[at] = byte(c)
				if at+1 < len(b) {
					b[at+1] = byte(next)
				}
				s := string(b)
				for _, html := range []bool{true, false} {
					want, _ := encodingJSON(s, html)
					if got := AppendString(nil, s, html); !bytes.Equal(got, want) {
						t.Fatalf("AppendString(%q, %v) = %s, encoding/json makes %s", s, html, got, want)
					}
				}
			}
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"urn", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
		{"email", "Siobhan.Bjornson12345@example.com"},
		{"accents", "Siobhán Björnson, São Paulo"},
		{"short", "E00001"},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.SetBytes(int64(len(c.s)))
			for b.Loop() {
				buf = AppendString(buf[:0], c.s, true)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			want, _ := encodingJSON(s, html)
			if got := AppendString([]byte("x"), s, html); !bytes.Equal(got[1:], want) {
				t.Fatalf("AppendString(%q, %v) = %s, encoding/json makes %s", s, html, got[1:], want)
			}
		}
	})
}

func TestAppendValueIsEncodingJSON(t *testing.T) {
	values := []any{
		nil, "a<b", true, false, []string{}, []string(nil), []string{"x", "<y>"},
		[]any{}, []any(nil), map[string]any(nil), map[string]any{},
		map[string]any{
			"b": "2", "a": []any{map[string]any{"type": "work", "value": "x&y"}, nil, []string{"z"}},
			"\u2028": map[string]any{"n": 3, "f": 1.5e300, "t": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
			"B":      json.Number("12"), "ü": int64(-7), "": "empty key",
		},
		[]any{json.RawMessage(`{"z":1, "a":"<"}`), uint8(3)},
	}
	for _, v := range values {
		for _, html := range []bool{true, false} {
			want, werr := encodingJSON(v, html)
			got, err := AppendValue(nil, v, html)
			if werr != nil || err != nil {
				t.Fatalf("AppendValue(%#v): %v, encoding/json: %v", v, err, werr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("AppendValue(%#v, %v) =\n%s\nencoding/json makes\n%s", v, html, got, want)
			}
		}
	}
}

func TestAppendValueFailsAsEncodingJSON(t *testing.T) {
	for _, v := range []any{math.NaN(), map[string]any{"f": func() {}}, []any{"x", make(chan int)}} {
		_, want := json.Marshal(v)
		_, err := AppendValue(nil, v, true)
		if err == nil || err.Error() != want.Error() {
			t.Errorf("AppendValue(%#v) error %v, json.Marshal's %v", v, err, want)
		}
	}
}
