package codec

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// EncodingZstd is the metadata encoding of a payload this codec compressed:
// the original payload, protobuf-encoded, in a zstd frame.
const EncodingZstd = "binary/zstd"

// encodingZlib is the SDK's zlib codec's encoding.
const encodingZlib = "binary/zlib"

const (
	// MinCompressSize is the smallest payload data compressed. Below it a
	// payload stays plain JSON, which the Web UI shows without a codec
	// server: signals, queries, statuses, and the workflows' and
	// activities' inputs, which carry a job's configuration (1 to 3 KB in
	// the recorded histories) once per batch. A batch result takes about
	// 860 bytes per entry and compresses to a quarter from 5 entries on, to
	// a tenth at 250 (TestCompressesLargePayloadsOnly, BenchmarkCompress).
	MinCompressSize = 4 << 10
	// A compressed payload is kept only when it is at most this share
	// (in eighths) of the original: one that saves less costs its readers a
	// decompression for nothing.
	keepEighths = 7
	// maxDecoded bounds what one payload decompresses to, so that a forged
	// payload sent to the codec server cannot exhaust its memory. Temporal
	// keeps payloads under 2 MB, and a batch result's entries under 1 MB.
	maxDecoded = 64 << 20
)

var (
	// zstd's fastest level: on a batch result it compresses as well as its
	// default level and better than zlib, at a fraction of zlib's CPU; s2
	// is faster still but leaves 60% more (BenchmarkCompress). EncodeAll
	// and DecodeAll are safe for concurrent use, one call per CPU at a
	// time. Each encoder keeps history buffers sized by its window, for
	// the worker's life: a batch result's entries repeat one another
	// within a few kilobytes, so a window of 512 KiB compresses them as
	// well as one of 2 MB (BenchmarkCompress) and keeps about 3 MB of the
	// worker's heap alive, not 10.
	zstdEncoder = must(zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(0), zstd.WithWindowSize(512<<10)))
	zstdDecoder = must(zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded)))
	// zlibCodec decodes the payloads of histories written before zstd,
	// when the encrypted codec compressed every payload with zlib.
	zlibCodec = converter.NewZlibCodec(converter.ZlibCodecOptions{})
)

// scratch holds the buffers a payload passes through on its way in or
// out: its protobuf encoding, compressed from, and its decompressed form,
// which decoding copies from. A batch result is up to a megabyte; a
// buffer each time would be most of what the workflow's worker allocates
// for it. Buffers larger than keptScratch, which only a rare payload
// needs, are left to the collector.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

const keptScratch = 4 << 20

func putScratch(b *[]byte) {
	if cap(*b) <= keptScratch {
		scratch.Put(b)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// compression compresses the payloads worth it with zstd, unless off, and
// decompresses zstd and zlib payloads whatever off says: turning
// compression off must leave the histories written with it readable.
type compression struct{ off bool }

func (c compression) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.off {
		return payloads, nil
	}
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		out[i] = p
		if len(p.GetData()) < MinCompressSize {
			continue
		}
		buf := scratch.Get().(*[]byte)
		raw, err := proto.MarshalOptions{}.MarshalAppend((*buf)[:0], p)
		if err != nil {
			putScratch(buf)
			return payloads, fmt.Errorf("compress payload: %w", err)
		}
		z := zstdEncoder.EncodeAll(raw, make([]byte, 0, len(raw)/4))
		*buf = raw
		kept := len(z) <= len(raw)*keepEighths/8
		putScratch(buf)
		if !kept {
			continue
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingZstd)}, Data: z}
	}
	return out, nil
}

func (compression) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		switch string(p.GetMetadata()[converter.MetadataEncoding]) {
		case EncodingZstd:
			buf := scratch.Get().(*[]byte)
			raw, err := zstdDecoder.DecodeAll(p.GetData(), (*buf)[:0])
			if err != nil {
				putScratch(buf)
				return payloads, fmt.Errorf("decompress payload: %w", err)
			}
			// Unmarshal copies the payload's bytes out of raw, which so
			// goes back to the pool.
			out[i] = &commonpb.Payload{}
			err = proto.Unmarshal(raw, out[i])
			*buf = raw
			putScratch(buf)
			if err != nil {
				return payloads, fmt.Errorf("decompressed payload: %w", err)
			}
		case encodingZlib:
			dec, err := zlibCodec.Decode([]*commonpb.Payload{p})
			if err != nil {
				return payloads, err
			}
			out[i] = dec[0]
		default:
			out[i] = p
		}
	}
	return out, nil
}
