package file

import (
	"bytes"
	"encoding/json"
	"testing"
)

// scanID finds an object's ID as the decoder does, or gives up: it never
// names another ID than the one a decoded record has.
func FuzzScanID(f *testing.F) {
	for _, s := range []string{
		`{"id":"E1","name":"Ann"}`,
		`{"name":"Ann", "id": " E2 ", "tags":["a","b"], "x":{"id":"no"}}`,
		`{"id":42}`,
		`{"id":-4.2e1,"id2":"x"}`,
		`{"id":"E1","id":"E2"}`,
		`{"i\u0064":"E1"}`,
		`{"id":"E\u0031"}`,
		`{"a":"x\"y","id":"E3"}`,
		`{"a":"x\\","id":"E4"}`,
		`{"id":null}`,
		`{"id":true}`,
		`{"id":"E5"} trailing`,
		`[{"id":"E6"}]`,
		`{}`,
		`{"id":"E7",}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok := scanID(b, "id")
		if !ok {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return // the record fails alone, as invalid JSON
		}
		m, isObject := v.(map[string]any)
		if !isObject {
			t.Fatalf("scanned %q from %q, which is not an object", id, b)
		}
		want, err := jsonID(m["id"])
		if err != nil || want != id {
			t.Fatalf("scanned %q from %q; the decoder reads %q (%v)", id, b, want, err)
		}
	})
}

func TestScanID(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":"E1","name":"Ann"}`: "E1",
		` { "name" : "Ann" , "x":{"id":"no","y":[1,{"z":2}]}, "id" : " E2 " } `: "E2",
		`{"a":"x\"y,}","id":42}`: "42",
		`{"id":-4.2e1}`:          "-4.2e1",
	} {
		if got, ok := scanID([]byte(in), "id"); !ok || got != want {
			t.Errorf("scanID(%s) = %q, %t; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`{"id":"E1","id":"E2"}`, `{"i\u0064":"E1"}`, `{"id":"E\u0031"}`, `{"id":null}`, `{"name":"x"}`, `[{"id":"E1"}]`, `{"id":"E1"`} {
		if got, ok := scanID([]byte(in), "id"); ok {
			t.Errorf("scanID(%s) = %q; want it to give up", in, got)
		}
	}
}
