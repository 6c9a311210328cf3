package scim

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
)

// decodedID is what call makes of a create's answer by encoding/json.
func decodedID(raw []byte) (string, error) {
	var created createdResource
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	err := dec.Decode(&created)
	return created.ID, err
}

// checkScanID fails when scanID reads an answer otherwise than
// encoding/json does.
func checkScanID(t *testing.T, raw []byte) bool {
	t.Helper()
	id, ok := scanID(raw)
	if !ok {
		return false
	}
	want, err := decodedID(raw)
	if err != nil {
		t.Fatalf("scanID(%q) = %q, encoding/json fails: %v", raw, id, err)
	}
	if id != want {
		t.Fatalf("scanID(%q) = %q, encoding/json reads %q", raw, id, want)
	}
	return true
}

var answerSeeds = []string{
	cannedUser,
	`{}`, ` {"id":"x"} trailing`, `{"id":"a","ID":"b"}`, `{"Id":"x"}`, `{"id":null}`, `{"id":7}`,
	`{"id":"a\"b"}`, `{"id":"\u00e9\ud83d\ude00"}`, "{\"id\":\"\xff\"}", `{"i\u0064":"x"}`, "{\"\xc4\xb1d\":\"x\"}",
	`{"id":"x","n":[1,-0.5e+3,true,false,null,{"a":[]}],"s":"\t"}`, `{"n":01}`, `{"n":1.}`, `{"n":-}`,
	`{"n":1e}`, `{"s":"\x"}`, `{"s":"\u12"}`, `{"a":[1,]}`, `{"a":{,}}`, `{"id":"x",}`, `[{"id":"x"}]`,
	`"id"`, `{"id":"x"`, `{"a":tru}`, `{"a":nul}`, "{\"a\":\"\x01\"}", `{"id":"x" "y":1}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
}

// Every answer scanID reads, it reads as encoding/json does; the answers
// services give are read by it, not left to encoding/json.
func TestScanIDIsDecode(t *testing.T) {
	for _, s := range answerSeeds {
		checkScanID(t, []byte(s))
	}
	for _, s := range []string{cannedUser, `{}`, ` {"id":"x"} trailing`, `{"id":"x","n":[1,-0.5e+3,true,false,null,{"a":[]}],"s":"\t"}`, `{"id":"é"}`} {
		assert.True(t, checkScanID(t, []byte(s)), s)
	}
	id, _ := scanID([]byte(cannedUser))
	assert.Equal(t, "2123283d-dcc2-4fb7-ad40-a6a95dafcc5a", id)
}

func FuzzScanID(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkScanID(t, raw) })
}

// Request bodies are what an encoding/json Encoder without HTML escaping
// writes, newline included.
func TestEncodeBodyIsEncoder(t *testing.T) {
	c := &Client{cfg: Config{Dialect: DialectAzure}.withDefaults()}
	res, err := c.buildResource(connectors.User, connectors.Attributes{
		"userName": "a<b>&c@example.com", "active": "True", "name.givenName": "Ada\u2028", workEmail: "x\xff@example.com",
		"emails[type eq \"home\"].value": "h@example.com", department: "R&D", "phoneNumbers[type eq \"work\"].value": []string{"1", "2"},
		EnterpriseSchema + ":manager": "m-1", "x.count": 3, "x.ratio": 0.25,
	})
	require.NoError(t, err)
	ops, err := c.patchOps(connectors.User, []connectors.Change{
		{Attribute: "title", Old: "a", New: "<b>"}, {Attribute: "nickName", Old: "n"}, {Attribute: "active", New: false},
	})
	require.NoError(t, err)
	group := &Client{cfg: Config{}.withDefaults()}
	groupOps, err := group.patchOps(connectors.Group, []connectors.Change{
		{Attribute: "members", New: []string{}}, {Attribute: `emails[type eq "work"].value`, New: "w"},
		{Attribute: `emails[type eq "work"].primary`, New: "true"},
	})
	require.NoError(t, err)
	for _, body := range []any{res, newPatch(ops), newPatch(groupOps), newPatch(nil), patchRequest{}, map[string]any{"k": []any(nil)}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(body))
		got, err := encodeBody(body)
		require.NoError(t, err)
		assert.Equal(t, want.String(), string(got))
	}
}

// BenchmarkCreateWire writes a create's body and reads its answer's id
// with encoding/json and without, side by side.
//
//	go test -run '^$' -bench CreateWire -benchmem ./connectors/scim/
func BenchmarkCreateWire(b *testing.B) {
	c := &Client{cfg: Config{}.withDefaults()}
	res, err := c.buildResource(connectors.User, benchUser(1))
	require.NoError(b, err)
	b.Run("encode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/encodeBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeBody(res); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw := []byte(cannedUser)
	b.Run("decode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodedID(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/scanID", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := scanID(raw); !ok {
				b.Fatal("not scanned")
			}
		}
	})
}
