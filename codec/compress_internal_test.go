package codec

import (
	"bytes"
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

// Payloads pass through pooled buffers: a payload decoded, or compressed,
// keeps its bytes when the next one reuses the buffer.
func TestPayloadsOutliveTheirScratchBuffers(t *testing.T) {
	payload := func(fill byte) *commonpb.Payload {
		return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)}, Data: bytes.Repeat([]byte{fill}, 64<<10)}
	}
	a, b := payload('a'), payload('b')
	z, err := compression{}.Encode([]*commonpb.Payload{a, b})
	require.NoError(t, err)
	require.Equal(t, EncodingZstd, string(z[0].GetMetadata()[converter.MetadataEncoding]))
	first, err := compression{}.Decode(z[:1])
	require.NoError(t, err)
	second, err := compression{}.Decode(z[1:])
	require.NoError(t, err)
	require.Equal(t, a.GetData(), first[0].GetData())
	require.Equal(t, b.GetData(), second[0].GetData())
	require.Equal(t, []byte(converter.MetadataEncodingJSON), first[0].GetMetadata()[converter.MetadataEncoding])
}
