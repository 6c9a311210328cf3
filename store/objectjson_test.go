package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
)

var jsonStrings = []string{"", "Ann", "Zoë Ångström", "a<b>&c", `quote " and \ backslash`, "tab\tnew\nline\x00",
	"\u2028\u2029", "invalid \xff utf-8", "emoji 😀", "\x7f del", "\ufffd replacement", `emails[type eq "work"].value`}

// Staged objects are stored as json.Marshal encodes them.
func TestAppendObjectJSONMatchesMarshal(t *testing.T) {
	attrs := connectors.Attributes{"b": nil, "a": true, "n": 3.5, "list": []string{"x", "<y>"}, "any": []any{"x", 1.0, nil, map[string]any{"k": "v"}}}
	for _, s := range jsonStrings {
		attrs[s] = s
	}
	for _, o := range []connectors.Object{
		{},
		{ID: "E1"},
		{ID: "E1", Locator: "row 2", Attributes: attrs, Disabled: true, Deleted: true, Members: []string{"a", "b\""}, Invalid: "bad <row>"},
		{ID: "G1", Attributes: connectors.Attributes{}, Members: []string{}},
	} {
		want, err := json.Marshal(o)
		require.NoError(t, err)
		got, err := AppendObjectJSON([]byte("prefix"), o)
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got))
	}
	_, err := AppendObjectJSON(nil, connectors.Object{Attributes: connectors.Attributes{"c": make(chan int)}})
	require.Error(t, err)
}

// decodeInputs are documents of the usual shape and of others, valid or not.
func decodeInputs(t testing.TB) []string {
	attrs := connectors.Attributes{"b": nil, "a": true, "f": false, "n": 3.5, "big": 1e300, "neg": -2.5e-7, "list": []string{"x", "<y>"},
		"any": []any{"x", 1.0, nil, map[string]any{"k": "v", "z": []any{}}}, "empty": map[string]any{}}
	for _, s := range jsonStrings {
		attrs[s] = s
	}
	enc, err := json.Marshal(connectors.Object{ID: "E1", Locator: "row 2", Attributes: attrs, Disabled: true, Deleted: true, Members: []string{"a"}, Invalid: "x"})
	require.NoError(t, err)
	return []string{
		string(enc),
		`{}`, `null`, `{"id":"E1"}`, `{"id":null,"attributes":null,"members":null,"disabled":null}`,
		`{"attributes":{},"members":[]}`, `{"disabled":false,"deleted":false}`,
		`{"id":"E1","id":"E2"}`, `{"attributes":{"a":"1"},"attributes":{"b":"2"}}`, `{"attributes":{"a":"1","a":"2"}}`,
		`{"ID":"E1"}`, `{"Attributes":{"a":"b"}}`, `{"unknown":1,"id":"E1"}`, `{ "id" : "E1" }`, " {\"id\":\"E1\"}\n",
		`{"id":"E\u0031\"\\\/\b\f\n\r\t"}`, `{"id":"\ud83d\ude00 \ud800"}`, "{\"id\":\"\xff\xfe\"}", "{\"id\":\"a\x01\"}",
		`{"attributes":{"k\u00e9":"v","n":1e2,"m":-12.5E-3,"z":0}}`, `{"attributes":{"n":01}}`, `{"attributes":{"n":1.}}`,
		`{"attributes":{"n":1e999}}`, `{"attributes":{"n":-}}`, `{"attributes":{"x":[1,"a",true,null,{"y":[]}]}}`,
		`{"members":["a",1]}`, `{"members":"a"}`, `{"id":1}`, `{"disabled":"true"}`, `{"disabled":tru}`,
		`{"id":"E1"`, `{"id":"E1",}`, `{"id":"E1"}x`, `{"id":"E1"}{}`, `[]`, ``, `{"attributes":{"a":}}`, `{"attributes":{,}}`,
		`{"id":"unterminated`, `{"id":"E1\`,
	}
}

// checkDecode requires DecodeObject and DecodeAttributes to give what
// json.Unmarshal gives, and the encoding DecodeObject returns to be the
// part of in that the attributes decode from.
func checkDecode(t *testing.T, d *ObjectDecoder, in string) {
	var want, got connectors.Object
	werr := json.Unmarshal([]byte(in), &want)
	encoded, gerr := d.DecodeObject([]byte(in), &got)
	require.Equal(t, werr == nil, gerr == nil, "%q: %v, %v", in, werr, gerr)
	if werr == nil {
		require.Equal(t, want, got, "%q", in)
	}
	if encoded != "" {
		require.Contains(t, in, `"attributes":`+string(encoded), "%q", in)
		var attrs connectors.Attributes
		require.NoError(t, json.Unmarshal([]byte(encoded), &attrs), "%q", in)
		require.Equal(t, got.Attributes, attrs, "%q", in)
	}
	var wantAttrs, gotAttrs connectors.Attributes
	werr = json.Unmarshal([]byte(in), &wantAttrs)
	gerr = d.DecodeAttributes([]byte(in), &gotAttrs)
	require.Equal(t, werr == nil, gerr == nil, "%q: %v, %v", in, werr, gerr)
	if werr == nil {
		require.Equal(t, wantAttrs, gotAttrs, "%q", in)
	}
}

func TestObjectDecoderMatchesUnmarshal(t *testing.T) {
	var d ObjectDecoder
	for _, in := range decodeInputs(t) {
		checkDecode(t, &d, in)
	}
	// What AppendObjectJSON writes takes the fast path.
	var o connectors.Object
	encoded, ok := d.object([]byte(decodeInputs(t)[0]), &o)
	require.True(t, ok)
	require.NotEmpty(t, encoded)
	for _, in := range decodeInputs(t) {
		var o connectors.Object
		if json.Unmarshal([]byte(in), &o) == nil {
			attrs, err := json.Marshal(o.Attributes)
			require.NoError(t, err)
			checkDecode(t, &d, string(attrs))
		}
	}
}

func FuzzObjectDecoder(f *testing.F) {
	for _, in := range decodeInputs(f) {
		f.Add(in)
	}
	var d ObjectDecoder
	f.Fuzz(func(t *testing.T, in string) { checkDecode(t, &d, in) })
}

// Whatever the strings, encoding matches json.Marshal and decoding gives
// back what was encoded, as encoding/json would.
func FuzzObjectRoundTrip(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s, s+"x", true)
	}
	var d ObjectDecoder
	f.Fuzz(func(t *testing.T, a, b string, flag bool) {
		o := connectors.Object{ID: a, Locator: b, Attributes: connectors.Attributes{a: b, b: []string{a}, "flag": flag, "n": nil}, Disabled: flag, Members: []string{b, a}, Invalid: a}
		want, err := json.Marshal(o)
		require.NoError(t, err)
		got, err := AppendObjectJSON(nil, o)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
		checkDecode(t, &d, string(got))
		// The attributes' encoding read back is the one AppendJSON makes,
		// which fingerprints are taken of.
		var back connectors.Object
		encoded, err := d.DecodeObject(got, &back)
		require.NoError(t, err)
		attrs, err := AppendJSON(nil, o.Attributes)
		require.NoError(t, err)
		require.Equal(t, string(attrs), string(encoded))
		again, err := AppendJSON(nil, encoded)
		require.NoError(t, err)
		require.Equal(t, string(attrs), string(again))
	})
}
