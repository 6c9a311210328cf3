package codec

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Histories encrypted before zstd hold payloads compressed with zlib, then
// encrypted: they still decode.
func TestDecodesZlibThenEncrypted(t *testing.T) {
	k, err := ParseKeys("old="+base64.StdEncoding.EncodeToString(make([]byte, 32)), "test")
	require.NoError(t, err)
	before := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), encryption{k}, converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true}))
	p, err := before.ToPayload(map[string]string{"userName": "ada.lovelace@example.com"})
	require.NoError(t, err)
	inner, err := encryption{k}.Decode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Equal(t, encodingZlib, string(inner[0].GetMetadata()[converter.MetadataEncoding]))

	var got map[string]string
	require.NoError(t, Codec{Keys: k}.DataConverter().FromPayload(p, &got))
	require.Equal(t, "ada.lovelace@example.com", got["userName"])
}
