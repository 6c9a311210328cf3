package codec

import (
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// EncodedJSON is a value that holds its own JSON encoding, valid and
// compact, such as a batch result whose log entries were encoded once for
// the state store: the data converter writes those bytes as they are,
// where the SDK's JSON converter would have json.Marshal validate and
// compact them again.
type EncodedJSON interface {
	// EncodedJSON returns the encoding, or false when the value has none
	// and is encoded as usual.
	EncodedJSON() ([]byte, bool)
}

// payloadConverter is the SDK's default payload conversion, with
// EncodedJSON values written as they are; decoding is the standard JSON
// decoding.
var payloadConverter = converter.NewCompositeDataConverter(
	converter.NewNilPayloadConverter(),
	converter.NewByteSlicePayloadConverter(),
	converter.NewProtoJSONPayloadConverter(),
	converter.NewProtoPayloadConverter(),
	jsonConverter{converter.NewJSONPayloadConverter()},
)

// jsonConverter is the JSON payload converter but for EncodedJSON values.
type jsonConverter struct {
	*converter.JSONPayloadConverter
}

func (c jsonConverter) ToPayload(value any) (*commonpb.Payload, error) {
	if v, ok := value.(EncodedJSON); ok {
		if b, ok := v.EncodedJSON(); ok {
			return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)}, Data: b}, nil
		}
	}
	return c.JSONPayloadConverter.ToPayload(value)
}
