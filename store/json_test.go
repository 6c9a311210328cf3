package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openprovisioning/provisioner/connectors"
)

// Values are stored as json.Marshal encodes them, whatever they hold, so
// states written before and after read alike.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	strs := []string{"", "Ann", "Zoë Ångström", "a<b>&c", `quote " and \ backslash`, "tab\tnew\nline\x00",
		"\u2028\u2029", "invalid \xff utf-8", "emoji 😀", "\x7f del"}
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
