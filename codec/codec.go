package codec

import (
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding is the metadata encoding of a payload this codec encrypted.
	Encoding = "binary/encrypted"
	// MetadataKeyID is the metadata field naming the key that encrypted it.
	MetadataKeyID = "encryption-key-id"
)

// Codec is how every client of the project encodes payloads: compressed
// when large (unless Uncompressed), and encrypted when Keys are given. Its
// zero value, compression alone, is the default. Whatever the settings,
// every codec decodes what the others wrote, but for encrypted payloads,
// which need the keys.
type Codec struct {
	// Keys, when set, encrypt every payload.
	Keys *Keys
	// Uncompressed leaves new payloads uncompressed, to measure what
	// compression costs and saves.
	Uncompressed bool
}

// Compressed says whether new payloads are compressed.
func (c Codec) Compressed() bool { return !c.Uncompressed }

// Codecs returns the payload codecs in the order the SDK applies them to
// decode: decryption, then decompression. Payloads are compressed before
// they are encrypted, while compression still finds repeats.
func (c Codec) Codecs() []converter.PayloadCodec {
	if c.Keys == nil {
		return []converter.PayloadCodec{compression{off: c.Uncompressed}}
	}
	return []converter.PayloadCodec{encryption{c.Keys}, compression{off: c.Uncompressed}}
}

// DataConverter is the SDK's default data converter, but for values that
// hold their own JSON (EncodedJSON), with every payload passed through the
// codecs.
func (c Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(payloadConverter, c.Codecs()...)
}

// FailureConverter encodes failures' payloads with the codecs. With keys,
// failure messages and stack traces, which can quote the objects they
// failed on, are kept in an encoded payload too; without, they stay
// readable in the Web UI.
func (c Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: c.DataConverter(), EncodeCommonAttributes: c.Keys != nil})
}

// ClientOptions sets the client's data and failure converters; workers
// made from the client use them too. When payloads are compressed, gRPC's
// gzip of every request (and the server's of its answers) is turned off:
// the large payloads are compressed already, and gzip would cost the
// client and the server CPU again on every call for little more.
func (c Codec) ClientOptions(opts *client.Options) {
	opts.DataConverter, opts.FailureConverter = c.DataConverter(), c.FailureConverter()
	if c.Compressed() {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
}

// ReplayerOptions are the replayer's options for histories written with
// any codec settings, or with none.
func (c Codec) ReplayerOptions() worker.WorkflowReplayerOptions {
	return worker.WorkflowReplayerOptions{DataConverter: c.DataConverter(), FailureConverter: c.FailureConverter()}
}

// encryption encrypts payloads with the newest key and decrypts them with
// the key their metadata names. Payloads it did not encrypt, such as
// those of histories written before the codec was turned on, pass through.
type encryption struct{ k *Keys }

func (e encryption) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := e.k.Current()
	aead := e.k.aead[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(id)},
			// The key ID is authenticated with the data: a payload whose
			// metadata was changed does not decrypt.
			Data: aead.Seal(nil, nil, plain, []byte(id)),
		}
	}
	return out, nil
}

func (e encryption) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead := e.k.aead[id]
		if aead == nil {
			return payloads, fmt.Errorf("payload encrypted with key %q, which is not among the codec keys (%s): add it back to decrypt", id, strings.Join(e.k.ids, ", "))
		}
		plain, err := aead.Open(nil, nil, p.GetData(), []byte(id))
		if err != nil {
			return payloads, fmt.Errorf("decrypt payload with key %q: %w (is it the key the payload was encrypted with?)", id, err)
		}
		out[i] = &commonpb.Payload{}
		if err := proto.Unmarshal(plain, out[i]); err != nil {
			return payloads, fmt.Errorf("decrypted payload with key %q: %w", id, err)
		}
	}
	return out, nil
}
