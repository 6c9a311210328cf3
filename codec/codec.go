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

// Codecs returns the payload codecs in the order the SDK applies them to
// decode: decryption, then decompression. Payloads are compressed before
// they are encrypted, while compression still finds repeats.
func (k *Keys) Codecs() []converter.PayloadCodec {
	return []converter.PayloadCodec{encryption{k}, converter.NewZlibCodec(converter.ZlibCodecOptions{})}
}

// DataConverter is the SDK's default data converter with every payload
// passed through the codecs.
func (k *Keys) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), k.Codecs()...)
}

// FailureConverter keeps failure messages and stack traces, which can
// quote the objects they failed on, in an encoded payload too.
func (k *Keys) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: k.DataConverter(), EncodeCommonAttributes: true})
}

// ClientOptions sets the client's data and failure converters; workers
// made from the client use them too. Nil keys leave the options as they
// are: the codec is off.
func (k *Keys) ClientOptions(opts *client.Options) {
	if k == nil {
		return
	}
	opts.DataConverter, opts.FailureConverter = k.DataConverter(), k.FailureConverter()
}

// ReplayerOptions are the replayer's options for histories written with
// the codec (or without it: payloads it did not encrypt pass through).
// Nil keys replay unencoded histories only.
func (k *Keys) ReplayerOptions() worker.WorkflowReplayerOptions {
	if k == nil {
		return worker.WorkflowReplayerOptions{}
	}
	return worker.WorkflowReplayerOptions{DataConverter: k.DataConverter(), FailureConverter: k.FailureConverter()}
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
