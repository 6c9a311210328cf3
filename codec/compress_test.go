package codec_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/openprovisioning/provisioner/audit"
	"github.com/openprovisioning/provisioner/codec"
	"github.com/openprovisioning/provisioner/examples/hrexport"
)

type batchResult struct {
	Entries []audit.Entry `json:"entries"`
}

// batch is a batch result as the bench's initial cycle returns it: n users
// of the generated HR export created in a SCIM application, each entry
// with the target's random ID and the nine attributes the demo job maps.
func batch(n int) batchResult {
	start := time.Date(2026, 12, 4, 22, 24, 29, 0, time.UTC)
	var r batchResult
	for i, e := range hrexport.Generate(n, 1) {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		r.Entries = append(r.Entries, audit.Entry{
			Job: "bench", CycleID: "1-01a24328", ChangeID: fmt.Sprintf("1-01a24328-%d", i+1), ObjectType: "User",
			SourceID: e.ID, Locator: fmt.Sprintf("row %d", i+2), DisplayName: e.UserName,
			TargetID: fmt.Sprintf("%x-%x-%x-%x-%x", id[:4], id[4:6], id[6:8], id[8:10], id[10:]),
			Action:   audit.Create, Status: audit.Success,
			Modified: []audit.Property{
				{Name: "displayName", New: e.DisplayName},
				{Name: `emails[type eq "work"].value`, New: e.Email},
				{Name: "externalId", New: e.ID},
				{Name: "name.familyName", New: e.Surname},
				{Name: "name.givenName", New: e.GivenName},
				{Name: "title", New: e.JobTitle},
				{Name: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", New: e.Department},
				{Name: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", New: e.ID},
				{Name: "userName", New: e.UserName},
			},
			Time:       start.Add(time.Duration(i) * 734567 * time.Nanosecond),
			DurationMs: int64(i % 7),
		})
	}
	return r
}

// A batch result is compressed to a fraction of its size and decodes
// back; small payloads stay plain JSON, which the Web UI shows as it is.
func TestCompressesLargePayloadsOnly(t *testing.T) {
	dc := codec.Codec{}.DataConverter()
	b := batch(250)
	plain, err := converter.GetDefaultDataConverter().ToPayload(b)
	require.NoError(t, err)
	p, err := dc.ToPayload(b)
	require.NoError(t, err)
	require.Equal(t, codec.EncodingZstd, string(p.GetMetadata()[converter.MetadataEncoding]))
	require.Less(t, proto.Size(p), proto.Size(plain)/4, "a batch result compresses to under a quarter")
	var got batchResult
	require.NoError(t, dc.FromPayload(p, &got))
	require.Equal(t, b, got)

	for _, v := range []any{ada, "sync-now", batch(1)} {
		want, err := converter.GetDefaultDataConverter().ToPayload(v)
		require.NoError(t, err)
		require.Less(t, len(want.GetData()), codec.MinCompressSize)
		p, err := dc.ToPayload(v)
		require.NoError(t, err)
		require.True(t, proto.Equal(want, p), "%T stays plain JSON", v)
	}
}

// A large payload that compression would not shrink by an eighth, such as
// random bytes, is kept as it is.
func TestIncompressiblePayloadsStayPlain(t *testing.T) {
	data := make([]byte, 64<<10)
	_, _ = rand.Read(data)
	p, err := codec.Codec{}.DataConverter().ToPayload(data)
	require.NoError(t, err)
	require.Equal(t, converter.MetadataEncodingBinary, string(p.GetMetadata()[converter.MetadataEncoding]))
	require.Equal(t, data, p.GetData())
}

// Uncompressed writes plain payloads but still reads compressed ones, and
// the default codec reads the histories written before compression (plain)
// or by the SDK's zlib codec.
func TestEveryCodecReadsEveryCompression(t *testing.T) {
	b := batch(100)
	zstdP, err := codec.Codec{}.DataConverter().ToPayload(b)
	require.NoError(t, err)
	off := codec.Codec{Uncompressed: true}
	require.False(t, off.Compressed())
	plainP, err := off.DataConverter().ToPayload(b)
	require.NoError(t, err)
	require.Equal(t, converter.MetadataEncodingJSON, string(plainP.GetMetadata()[converter.MetadataEncoding]))
	zlibP, err := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true})).ToPayload(b)
	require.NoError(t, err)
	require.Equal(t, "binary/zlib", string(zlibP.GetMetadata()[converter.MetadataEncoding]))

	for _, cd := range []codec.Codec{{}, off, {Keys: keys(t, newKey("k1"))}} {
		for _, p := range []*commonpb.Payload{zstdP, plainP, zlibP} {
			var got batchResult
			require.NoError(t, cd.DataConverter().FromPayload(p, &got))
			require.Equal(t, b, got)
		}
	}
}

// With keys, a large payload is compressed, then encrypted; a small one is
// encrypted alone.
func TestCompressedThenEncrypted(t *testing.T) {
	k := keys(t, newKey("k1"))
	b := batch(250)
	p, err := codec.Codec{Keys: k}.DataConverter().ToPayload(b)
	require.NoError(t, err)
	require.Equal(t, codec.Encoding, string(p.GetMetadata()[converter.MetadataEncoding]))
	inner, err := codec.Codec{Keys: k}.Codecs()[0].Decode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Equal(t, codec.EncodingZstd, string(inner[0].GetMetadata()[converter.MetadataEncoding]))

	p, err = codec.Codec{Keys: k}.DataConverter().ToPayload(ada)
	require.NoError(t, err)
	inner, err = codec.Codec{Keys: k}.Codecs()[0].Decode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Equal(t, converter.MetadataEncodingJSON, string(inner[0].GetMetadata()[converter.MetadataEncoding]))
}

// A forged payload that is not zstd is an error, not a panic.
func TestRefusesCorruptCompressedPayloads(t *testing.T) {
	p := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(codec.EncodingZstd)}, Data: []byte("not zstd")}
	var got batchResult
	require.ErrorContains(t, codec.Codec{}.DataConverter().FromPayload(p, &got), "decompress payload")
}

// preEncoded holds its JSON, spaced as json.Marshal would not write it.
type preEncoded struct{ raw []byte }

func (p preEncoded) EncodedJSON() ([]byte, bool) { return p.raw, p.raw != nil }

func (p preEncoded) MarshalJSON() ([]byte, error) {
	if p.raw == nil {
		return []byte(`{ }`), nil
	}
	return p.raw, nil
}

// A value holding its JSON is written as it is, not re-encoded; one
// without falls back to json.Marshal.
func TestEncodedJSONIsWrittenAsIs(t *testing.T) {
	dc := codec.Codec{}.DataConverter()
	raw := []byte(`{"entries": []}`)
	p, err := dc.ToPayload(preEncoded{raw})
	require.NoError(t, err)
	require.Equal(t, raw, p.GetData(), "json.Marshal would have compacted it")
	require.Equal(t, converter.MetadataEncodingJSON, string(p.GetMetadata()[converter.MetadataEncoding]))
	var got batchResult
	require.NoError(t, dc.FromPayload(p, &got))

	p, err = dc.ToPayload(preEncoded{})
	require.NoError(t, err)
	require.Equal(t, "{}", string(p.GetData()), "compacted by json.Marshal")
}

// BenchmarkCompress compresses a batch result of 250 entries, as the
// payload is encoded (the protobuf-encoded payload): MB/s of the JSON
// compressed, and the compressed size as a share of it. zstd-fastest is
// what the codec uses; the others were its candidates, and zlib is what
// the SDK's codec and the encrypted codec before it used.
func BenchmarkCompress(b *testing.B) {
	raw, err := converter.GetDefaultDataConverter().ToPayload(batch(250))
	require.NoError(b, err)
	src, err := proto.Marshal(raw)
	require.NoError(b, err)
	fastest, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	deflt, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	for _, c := range []struct {
		name string
		fn   func([]byte) []byte
	}{
		{"codec", func(src []byte) []byte {
			p, _ := codec.Codec{}.Codecs()[0].Encode([]*commonpb.Payload{raw})
			return p[0].GetData()
		}},
		{"zstd-fastest", func(src []byte) []byte { return fastest.EncodeAll(src, nil) }},
		{"zstd-default", func(src []byte) []byte { return deflt.EncodeAll(src, nil) }},
		{"s2", func(src []byte) []byte { return s2.Encode(nil, src) }},
		{"s2-better", func(src []byte) []byte { return s2.EncodeBetter(nil, src) }},
		{"zlib", func(src []byte) []byte {
			var buf bytes.Buffer
			w := zlib.NewWriter(&buf)
			_, _ = w.Write(src)
			_ = w.Close()
			return buf.Bytes()
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			var n int
			for b.Loop() {
				n = len(c.fn(src))
			}
			b.ReportMetric(float64(n)/float64(len(src)), "ratio")
		})
	}
}

// BenchmarkDecompress decodes the codec's payload of a batch result of 250
// entries back to the JSON payload, as a workflow task and the log's
// readers do.
func BenchmarkDecompress(b *testing.B) {
	cs := codec.Codec{}.Codecs()
	raw, err := converter.GetDefaultDataConverter().ToPayload(batch(250))
	require.NoError(b, err)
	enc, err := cs[0].Encode([]*commonpb.Payload{raw})
	require.NoError(b, err)
	b.SetBytes(int64(len(raw.GetData())))
	for b.Loop() {
		if _, err := cs[0].Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToPayload encodes a batch result that holds its JSON, through
// the SDK's default converter (json.Marshal calls MarshalJSON, then checks
// and compacts its output) and through the codec's (EncodedJSON).
func BenchmarkToPayload(b *testing.B) {
	raw, err := json.Marshal(batch(250))
	require.NoError(b, err)
	v := preEncoded{raw}
	for name, dc := range map[string]converter.DataConverter{
		"sdk-json":     converter.GetDefaultDataConverter(),
		"encoded-json": codec.Codec{Uncompressed: true}.DataConverter(),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := dc.ToPayload(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSendBatchResult is the worker's CPU to put a batch result of
// 250 entries on the wire: encoded by the data converter, marshalled into
// the request and, as gRPC does by default, gzipped. "before" is the SDK's
// JSON converter and gRPC gzip; "codec" is this codec with gzip off, as
// ClientOptions sets it; "codec+gzip" shows the cost of compressing twice.
func BenchmarkSendBatchResult(b *testing.B) {
	raw, err := json.Marshal(batch(250))
	require.NoError(b, err)
	v := preEncoded{raw}
	zw := gzip.NewWriter(io.Discard)
	for _, c := range []struct {
		name string
		dc   converter.DataConverter
		gzip bool
	}{
		{"before", converter.GetDefaultDataConverter(), true},
		{"codec", codec.Codec{}.DataConverter(), false},
		{"codec+gzip", codec.Codec{}.DataConverter(), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			var n int
			for b.Loop() {
				ps, err := c.dc.ToPayloads(v)
				if err != nil {
					b.Fatal(err)
				}
				msg, err := proto.Marshal(ps)
				if err != nil {
					b.Fatal(err)
				}
				n = len(msg)
				if c.gzip {
					var buf bytes.Buffer
					zw.Reset(&buf)
					_, _ = zw.Write(msg)
					_ = zw.Close()
					n = buf.Len()
				}
			}
			b.ReportMetric(float64(n), "wire-bytes")
		})
	}
}

// A client whose payloads are compressed does not gzip its gRPC calls too;
// one that does not compress keeps the SDK's gzip.
func TestClientOptionsTurnGRPCGzipOff(t *testing.T) {
	var opts client.Options
	codec.Codec{}.ClientOptions(&opts)
	require.IsType(t, &client.GrpcCompressionNone{}, opts.ConnectionOptions.GrpcCompression)
	require.NotNil(t, opts.DataConverter)

	opts = client.Options{}
	codec.Codec{Uncompressed: true}.ClientOptions(&opts)
	require.Nil(t, opts.ConnectionOptions.GrpcCompression, "the SDK's default, gzip")
}
