package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/connectors"
)

// Values are stored as json.Marshal encodes them, whatever they hold, so
// states written before and after read alike.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	strs := []string{"", "Ann", "Zoë Ångström", "a<b>&c", `quote " and \ backslash`, "tab\tnew\nline\x00",
		"\u2028\u2029", "invalid \xff utf-8", "emoji 😀", "\x7f del",
		"Zoë <b>", "Zoë \u2028", "Zoë \xff", "Zoë \xe2\x80", "Zoë\n", "Zoë \"q\""}
	attrs := connectors.Attributes{"b": nil, "a": true, "n": 3.5, "i": 42, "list": []string{"x", "<y>"}, "none": []string(nil),
		"any": []any{"x", 1.0, nil, map[string]any{"k": "v"}}, "nested": map[string]any{"b": "2", "a": []string(nil)}}
	for _, s := range strs {
		attrs[s] = s
	}
	for _, v := range []any{nil, "x", true, []string{"a"}, attrs, map[string]any(attrs), connectors.Attributes(nil), 1e21} {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := AppendJSON([]byte("prefix"), v)
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got), "%#v", v)
	}
	_, err := AppendJSON(nil, connectors.Attributes{"c": make(chan int)})
	require.Error(t, err)
}

// Operations are stored as json.Marshal encodes them.
func TestAppendOperationJSONMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	ops := []*Operation{
		nil,
		{ChangeID: "c1-7", Action: audit.Create, Time: at},
		{ChangeID: "c1-8", Action: audit.Update, TargetID: "t<1>&", Done: true, Time: at.In(time.FixedZone("x", 3600)),
			Modified: []audit.Property{{Name: "mail", Old: "a@x", New: "b@x"}, {Name: "cleared", Old: "v"}, {Name: "set", New: "Zoë \u2028"}, {Name: "none"}}},
		{ChangeID: "c1-9", Action: audit.Delete, Modified: []audit.Property{}},
	}
	for _, op := range ops {
		want, err := json.Marshal(op)
		require.NoError(t, err)
		got, err := AppendOperationJSON(nil, op)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	_, err := AppendOperationJSON(nil, &Operation{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.Error(t, err)
}

// BenchmarkAppendJSONAttributes encodes a source record whose names carry
// diacritics, as every record is fingerprinted.
//
//	go test -run '^$' -bench AppendJSONAttributes -benchmem ./store/
func BenchmarkAppendJSONAttributes(b *testing.B) {
	attrs := connectors.Attributes{
		"employeeId": "E000123", "givenName": "José", "surname": "Müller", "displayName": "José Müller", "mail": "jose.muller@example.com",
		"department": "R&D", "jobTitle": "Engineer", "manager": "E000001", "status": "Active", "city": "Zürich",
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendJSON(buf[:0], attrs); err != nil {
			b.Fatal(err)
		}
	}
}
