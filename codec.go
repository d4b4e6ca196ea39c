package alexa

import "encoding/json"

// Codec encodes request bodies and decodes response bodies. The default is
// JSONCodec; another JSON library (for speed, or to count or trace calls)
// plugs in here. Every client of this module encodes its request bodies
// and decodes its response bodies with the Config's Codec; error bodies
// alone are read leniently with encoding/json, since proxies and CDNs
// answer too. The Alexa APIs speak JSON, so a Codec must produce and read
// JSON, honouring json.Marshaler and json.Unmarshaler and the json field
// tags as encoding/json does.
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
