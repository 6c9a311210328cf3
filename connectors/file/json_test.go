package file

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

func TestJSONRecords(t *testing.T) {
	records := []string{
		`{"id": "E1", "name": "Zoë", "age": 41, "score": 9.5, "level": 2.0, "big": 1e300, "admin": true, "manager": null, "mail": "", "groups": ["a", "b"], "tags": [], "enabled": false}`,
		`{"id": 42, "name": "Ann", "enabled": "TRUE"}`,
		`{"name": "no id"}`,
		`"not an object"`,
		`{"id": "E5", "address": {"city": "Oslo"}}`,
		`{"id": "E6", "phones": [1, 2]}`,
		`{"id": true}`,
		`{"id": "E1", "name": "again"}`,
	}
	want := []connectors.Object{
		{ID: "E1", Locator: "record 1", Disabled: true, Attributes: connectors.Attributes{
			"id": "E1", "name": "Zoë", "age": int64(41), "score": 9.5, "level": int64(2), "big": 1e300, "admin": true,
			"manager": nil, "mail": nil, "groups": []string{"a", "b"}, "tags": nil, "enabled": false}},
		{ID: "42", Locator: "record 2", Attributes: connectors.Attributes{"id": int64(42), "name": "Ann", "enabled": "TRUE"}},
		{ID: "record:3", Locator: "record 3", Invalid: "record 3: id is empty"},
		{ID: "record:4", Locator: "record 4", Invalid: "record 4: not a JSON object"},
		{ID: "E5", Locator: "record 5", Invalid: `record 5: field "address": nested objects are not supported`},
		{ID: "E6", Locator: "record 6", Invalid: `record 6: field "phones": an array may hold only strings`},
		{ID: "record:7", Locator: "record 7", Invalid: "record 7: id must be a string or a number"},
		{ID: "E1", Locator: "record 8", Invalid: `record 8: duplicate id "E1", first on record 1`},
	}
	cfg := Config{IDColumn: "id", DisabledColumn: "enabled", DisabledValues: []string{"false"}}
	for _, format := range []string{"json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			cfg := cfg
			want := want
			if format == "json" {
				cfg.Path = writeFile(t, "hr.json", "\uFEFF[\n  "+strings.Join(records, ",\n  ")+"\n]\n")
			} else {
				// Blank lines count, so records are numbered by line.
				cfg.Path = writeFile(t, "hr.jsonl", strings.Join(records, "\n\n")+"\n")
				want = relocate(want, func(n int) int { return 2*n - 1 })
			}
			objs, _, _ := readAll(t, open(t, cfg), 1000)
			if !reflect.DeepEqual(unhashed(objs...), want) {
				t.Errorf("got\n%#v\nwant\n%#v", objs, want)
			}
			for _, size := range []int{1, 3} {
				if resumed, _ := readResumed(t, cfg, size); !reflect.DeepEqual(resumed, objs) {
					t.Errorf("page size %d: a resumed read differs", size)
				}
			}
		})
	}
}

// relocate renumbers "record N" as "line f(N)".
func relocate(objs []connectors.Object, f func(int) int) []connectors.Object {
	out := make([]connectors.Object, len(objs))
	for i, o := range objs {
		var n int
		fmt.Sscanf(o.Locator, "record %d", &n)
		line := fmt.Sprintf("line %d", f(n))
		o.Locator = line
		o.Invalid = strings.Replace(o.Invalid, fmt.Sprintf("record %d", n), line, 1)
		o.Invalid = strings.Replace(o.Invalid, "first on record 1", "first on line 1", 1)
		if o.ID == fmt.Sprintf("record:%d", n) {
			o.ID = fmt.Sprintf("line:%d", f(n))
		}
		out[i] = o
	}
	return out
}

func TestJSONLinesBadLinesFailAlone(t *testing.T) {
	cfg := Config{Path: writeFile(t, "hr.ndjson", "{\"id\":\"1\"}\r\n{\"id\": \"2\",\n{\"id\":\"3\"} {}\n{\"id\":\"4\"}"), IDColumn: "id"}
	objs, _, _ := readAll(t, open(t, cfg), 2)
	got := make([]string, len(objs))
	for i, o := range objs {
		got[i] = o.ID + " " + o.Invalid
	}
	want := []string{"1 ", "line:2 line 2: not valid JSON: unexpected EOF", "line:3 line 3: more than one JSON value on the line", "4 "}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestJSONBrokenArrayFailsTheRead(t *testing.T) {
	for _, tt := range []struct{ name, content, detail string }{
		{"syntax error", `[{"id": "1"}, {"id": "2",, }, {"id": "3"}]`, "record 2: invalid character ',' looking for beginning of object key string near byte 24"},
		{"not closed", `[{"id": "1"}`, "record 2: unexpected EOF"},
		{"cut in a record", `[{"id": "1"}, {"id"`, "record 2: unexpected EOF"},
		{"trailing data", `[{"id": "1"}] [{"id": "2"}]`, "data after the array's closing bracket at byte 13"},
		{"not an array", `{"id": "1"}`, "not a JSON array"},
		{"empty", ``, "the file is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Path: writeFile(t, "hr.json", tt.content), IDColumn: "id"}
			_, err := open(t, cfg).Read(context.Background(), connectors.ReadRequest{})
			if ce := wantUnavailable(t, err); !strings.Contains(ce.Detail, tt.detail) {
				t.Fatalf("detail %q, want it to contain %q", ce.Detail, tt.detail)
			}
		})
	}
}

func TestJSONEmptyArray(t *testing.T) {
	objs, pages, mark := readAll(t, open(t, Config{Path: writeFile(t, "hr.json", " [ ] "), IDColumn: "id"}), 10)
	if len(objs) != 0 || pages != 1 || mark == "" {
		t.Fatalf("%d objects, %d pages, watermark %q", len(objs), pages, mark)
	}
}
