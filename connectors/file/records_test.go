package file

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/openprovisioning/provisioner/connectors"
)

// Records inside the top-level object, as a Workday report or a
// SuccessFactors OData answer holds them, read whole and resumed on fresh
// sources page by page; what surrounds them is skipped.
func TestRecordsPath(t *testing.T) {
	for _, tc := range []struct{ path, doc string }{
		{"Report_Entry", `{"Report_Entry": [%s]}`},
		{"d.results", `{"d": {"__count": "3", "results": [%s], "meta": {"x": [1, {"y": []}]}, "__next": null}}`},
		{"value", `{"@odata.context": "$metadata#User", "value": [%s], "@odata.count": 3}`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			recs := `{"id": "E1", "name": "Ada"}, {"id": "E2", "name": "Grace"}, {"id": "E3", "name": "Edsger"}`
			cfg := Config{Path: writeFile(t, "report.json", strings.Replace(tc.doc, "%s", recs, 1)), IDColumn: "id", RecordsPath: tc.path}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			objs, _, _ := readAll(t, open(t, cfg), 1000)
			if len(objs) != 3 || objs[2].Attributes["name"] != "Edsger" || objs[0].Locator != "record 1" {
				t.Fatalf("read %#v", objs)
			}
			for _, size := range []int{1, 2} {
				if resumed, _ := readResumed(t, cfg, size); !reflect.DeepEqual(resumed, objs) {
					t.Errorf("page size %d: a resumed read differs: %#v", size, resumed)
				}
			}
		})
	}
}

func TestRecordsPathRefusals(t *testing.T) {
	for _, tc := range []struct{ path, doc, want string }{
		{"Report_Entry", `{"Report_Data": []}`, `no field "Report_Entry" in the JSON object at the top level`},
		{"d.results", `{"d": {"results": {"id": "E1"}}}`, "d.results is an object, not an array of records"},
		{"d.results", `[{"id": "E1"}]`, `expected a JSON object holding "d"`},
		{"", `{"Report_Entry": []}`, "set recordsPath to the field that holds the records (Report_Entry for a Workday report"},
		{"d.results", `{"d": {"results": [{"id": "E1"}], "__next": "https://api.example/odata/v2/User?$skiptoken=2"}}`, "one page of a longer result (it has a __next link"},
		{"value", `{"@odata.nextLink": "https://graph.example/next", "value": [{"id": "E1"}]}`, "it has a @odata.nextLink link"},
		{"Report_Entry", `{"Report_Entry": [{"id": "E1"}]`, "unexpected EOF"},
		{"Report_Entry", `{"Report_Entry": [{"id": "E1"}]} {}`, "data after the array's closing bracket"},
	} {
		cfg := Config{Path: writeFile(t, "report.json", tc.doc), IDColumn: "id", RecordsPath: tc.path}
		_, err := open(t, cfg).Read(context.Background(), connectors.ReadRequest{Type: connectors.User})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s in %s: got %v, want an error saying %q", tc.path, tc.doc, err, tc.want)
		}
	}
	if err := (Config{Path: "r.csv", IDColumn: "id", RecordsPath: "Report_Entry"}).Validate(); err == nil || !strings.Contains(err.Error(), "recordsPath: only for format json") {
		t.Errorf("recordsPath on a CSV file: %v", err)
	}
}
