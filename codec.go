package alexa

import "encoding/json"

// Codec encodes request bodies and decodes response bodies: the seed's
// Serializer. The default is JSONCodec.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
	// ContentType is the media type of what Marshal produces.
	ContentType() string
}

// JSONCodec is the default Codec, encoding/json.
type JSONCodec struct{}

// Marshal encodes v as compact JSON.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON data into v.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// ContentType is application/json.
func (JSONCodec) ContentType() string { return "application/json" }
