package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
	"github.com/openprovisioning/provisioner/mapping"
	"github.com/openprovisioning/provisioner/store"
)

// encodedFingerprint is Fingerprint as the JSON encoder writes it, which
// the state stores of earlier versions hold.
func encodedFingerprint(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		_ = enc.Encode(p)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Fingerprints match those of the JSON encoding whatever the values hold,
// so that upgrading does not make every known record look changed.
func TestFingerprintMatchesTheJSONEncoding(t *testing.T) {
	strs := []string{"", "Ann", "ann.smith@example.com", "Zoë Ångström", "a<b>&c", `quote " and \ backslash`, "tab\tnew\nline\x00",
		"\u2028\u2029", "invalid \xff utf-8", "emoji 😀", "\x7f del", "日本語"}
	for _, s := range strs {
		require.Equal(t, encodedFingerprint(s), Fingerprint(s), "%q", s)
	}
	attrs := connectors.Attributes{"employeeId": "E1", "b": nil, "a": true, "n": 3.5, "i": 42, "list": []string{"x", "<y>"},
		"any": []any{"x", 1.0, nil, map[string]any{"k": "v"}}, "Zeta": "z", "é": "accent", "nested": map[string]any{"b": "2", "a": []string(nil)}}
	for _, s := range strs {
		attrs[s] = s
	}
	cases := [][]any{
		{attrs, false, true, []string{"G1", "g2"}},
		{connectors.Attributes{}, true, false, []string(nil)},
		{connectors.Attributes(nil), false, false, []string{}},
		{"hash", "assigned"},
		{"name", []string{"m1"}},
		{"job", map[string]any{"type": "scim", "url": "https://example.com/scim?a=1&b=2"}},
		{"job", mapping.ObjectMapping{SourceObject: "User", TargetObject: "User"}},
		{math.NaN(), "after a value the encoder refuses"},
		{connectors.Attributes{"bad": math.Inf(1)}, "a map holding one"},
		{json.Number("12"), uint8(7), []int{1, 2}},
	}
	for _, parts := range cases {
		require.Equal(t, encodedFingerprint(parts...), Fingerprint(parts...), "%#v", parts)
	}
}

// A staged object's fingerprint, taken from the encoding the store read
// back, is the one its source record had as it was read: an object
// provisioned once is not staged again unchanged. Numbers too big for a
// float64 are the case where encoding the decoded attributes again would
// give another; empty attributes and members, which the stage step does
// not keep, hash as none.
func TestStagedHashIsTheSourceRecordsHash(t *testing.T) {
	attrs := connectors.Attributes{"employeeId": "E1", "b": nil, "a": true, "n": 3.5, "big": int64(1)<<53 + 1,
		"list": []string{"x", "<y>"}, "any": []any{"x", 1.0, nil, map[string]any{"k": "v"}}, "é": "Zoë <Ångström> & co\u2028"}
	var d store.ObjectDecoder
	for _, o := range []connectors.Object{
		{ID: "E1", Locator: "row 2", Attributes: attrs},
		{ID: "E2", Attributes: attrs, Disabled: true, Members: []string{"m1"}},
		{ID: "E3", Deleted: true},
		{ID: "G1", Attributes: connectors.Attributes{}, Members: []string{}},
	} {
		enc, err := store.AppendObjectJSON(nil, o)
		require.NoError(t, err)
		it := store.StagedItem{Seq: 1, Type: connectors.User}
		it.AttributesJSON, err = d.DecodeObject(enc, &it.Object)
		require.NoError(t, err)
		require.Equal(t, len(o.Attributes) > 0, it.AttributesJSON != "", o.ID)
		for _, assigned := range []bool{false, true} {
			require.Equal(t, sourceHash(o, assigned), stagedHash(it, assigned), "%s assigned %v", o.ID, assigned)
		}
	}
	o := connectors.Object{ID: "E1", Attributes: attrs}
	enc, err := store.AppendObjectJSON(nil, o)
	require.NoError(t, err)
	var decoded connectors.Object
	_, err = d.DecodeObject(enc, &decoded)
	require.NoError(t, err)
	require.NotEqual(t, sourceHash(o, false), sourceHash(decoded, false), "the decoded number encodes otherwise")
}

func BenchmarkObjectHash(b *testing.B) {
	o := connectors.Object{ID: "E000123", Attributes: connectors.Attributes{
		"employeeId": "E000123", "givenName": "Ann", "surname": "Smith", "displayName": "Ann Smith", "mail": "ann.smith@example.com",
		"department": "Engineering", "jobTitle": "Engineer", "manager": "E000001", "status": "Active", "city": "Springfield",
		"country": "US", "hireDate": "2020-01-02", "phone": "+1 555 0100",
	}}
	for b.Loop() {
		sourceHash(o, true)
	}
}

// Scoping and mappings read a record's attributes and IsSoftDeleted, from
// a copy: the staged record, whose attributes are fingerprinted and
// logged, keeps only its own.
func TestSourceAttributesAreACopy(t *testing.T) {
	o := connectors.Object{ID: "E1", Disabled: true, Attributes: connectors.Attributes{"userName": "ada", "department": nil}}
	got := sourceAttributes(o)
	require.Equal(t, connectors.Attributes{"userName": "ada", "department": nil, SoftDeletedAttribute: true}, got)
	require.Equal(t, connectors.Attributes{"userName": "ada", "department": nil}, o.Attributes)
	require.Equal(t, connectors.Attributes{SoftDeletedAttribute: false}, sourceAttributes(connectors.Object{ID: "E2"}))
}
