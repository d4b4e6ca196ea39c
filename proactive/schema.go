package proactive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
)

// Schema is a typed event payload. Each payload type of the catalogue
// implements it, so that the event name comes from the type and cannot be
// misspelled.
type Schema interface {
	// EventName is the schema name, such as "AMAZON.WeatherAlert.Activated".
	EventName() string
}

// NewEvent returns the Event of a create request carrying p under its own
// schema name.
func NewEvent(p Schema) Event { return Event{Name: p.EventName(), Payload: p} }

// Placeholder returns "localizedattribute:KEY": a payload value that Alexa
// replaces, per locale, with KEY of each localizedAttributes entry.
func Placeholder(key string) string { return PlaceholderPrefix + key }

// enUS is the one locale of the en-US-only schemas.
const enUS = "en-US"

// SchemaInfo describes one schema of the catalogue, for tools that list
// schemas or write request skeletons.
type SchemaInfo struct {
	// Name is the event name, such as "AMAZON.WeatherAlert.Activated".
	Name string
	// EnUSOnly is true for the schemas Alexa supports in en-US only: a
	// request with another locale is refused.
	EnUSOnly bool
	// Template is the sentence Alexa speaks, as Preview fills it: <path>
	// is the payload field at that JSON path (below event.payload), said as
	// its type says (enum values in lower case words, times as a date);
	// [text] is said only when every field in it is present; and
	// <path?V=text|W,X=text|text> says the text of the value's branch, the
	// last one without values standing for any other value.
	Template string
	// Approximate is true when Amazon documents no sentence for the schema
	// and Template (and Preview) is this package's guess.
	Approximate bool
	// Example returns a fresh, valid example payload and the values of the
	// placeholders it uses (without "locale"), the same for every locale.
	// Its times, if any, lie ahead of now, so that its sentence speaks of
	// the future.
	Example func(now time.Time) (Schema, map[string]string)
}

// schemaDef is a catalogue entry: what SchemaInfo says, plus what the
// payload type declares, which stays unexported.
type schemaDef struct {
	SchemaInfo
	// typ is the payload struct, which Preview decodes into.
	typ reflect.Type
	// root declares the payload's fields, from typ's tags.
	root *field
	// sentence is Template, parsed.
	sentence sentence
}

// catalogue is every known schema, in the order of Amazon's docs.
var catalogue = []schemaDef{
	weatherAlertSchema,
	sportsEventSchema,
	messageAlertSchema,
	orderStatusSchema,
	occasionSchema,
	trashCollectionSchema,
	mediaContentSchema,
	socialGameInviteSchema,
}

// Schemas returns the catalogue: the eight schemas Amazon documents.
func Schemas() []SchemaInfo {
	out := make([]SchemaInfo, len(catalogue))
	for i, d := range catalogue {
		out[i] = d.SchemaInfo
	}
	return out
}

// LookupSchema returns the catalogue entry of name.
func LookupSchema(name string) (SchemaInfo, bool) {
	d, ok := lookup(name)
	return d.SchemaInfo, ok
}

func lookup(name string) (schemaDef, bool) {
	for _, d := range catalogue {
		if d.Name == name {
			return d, true
		}
	}
	return schemaDef{}, false
}

func unknownSchema(name string) error {
	names := make([]string, len(catalogue))
	for i, d := range catalogue {
		names[i] = d.Name
	}
	return fmt.Errorf("unknown schema %q: known schemas are %s", name, strings.Join(names, ", "))
}

// Skeleton returns a valid request for schema name, as
// DefaultRules().Skeleton does.
func Skeleton(name string, locales []string, audience Audience) (*Request, error) {
	return DefaultRules().Skeleton(name, locales, audience)
}

// Skeleton returns a valid request for schema name with the example
// payload (its times counted from rules.Now), a localizedAttributes entry
// per locale (en-US when none is given) and audience. Each locale must be
// one the rules accept. Timestamp, ExpiryTime and ReferenceID are left
// empty: they belong to the moment of sending.
func (rules Rules) Skeleton(name string, locales []string, audience Audience) (*Request, error) {
	d, ok := lookup(name)
	if !ok {
		return nil, unknownSchema(name)
	}
	if len(locales) == 0 {
		locales = []string{enUS}
	}
	payload, values := d.Example(rules.now())
	r := &Request{Event: NewEvent(payload), RelevantAudience: audience}
	for _, loc := range locales {
		if rule := rules.localeRule(loc); rule != "" {
			return nil, fmt.Errorf("locale %q: %s", loc, rule)
		}
		if d.EnUSOnly && loc != enUS {
			return nil, fmt.Errorf("%s is available in %s only, not %s", name, enUS, loc)
		}
		l := LocalizedAttribute{"locale": loc}
		for k, v := range values {
			l[k] = v
		}
		r.LocalizedAttributes = append(r.LocalizedAttributes, l)
	}
	return r, nil
}

// UnknownFields returns the top-level keys of the JSON last decoded into r
// that are no request field in any case, such as a misspelt "expiryTme":
// they were ignored. Warnings names them; the bulk sender, whose lines no
// one reads, refuses them.
func (r *Request) UnknownFields() []string {
	var out []string
	for _, k := range r.unknownFields {
		if !slices.ContainsFunc(requestFields, func(f string) bool { return strings.EqualFold(f, k) }) {
			out = append(out, k)
		}
	}
	return out
}

// Warnings returns what may be wrong with r without making it invalid: a
// top-level field the API does not know or spells in another case, an
// event name outside the catalogue, a literal where the schema expects a
// placeholder, more garbage types than one source allows. Validate reports
// the errors; Warnings ignores them.
func Warnings(r *Request) []string {
	var ws []string
	for _, k := range r.unknownFields {
		// A misspelt field, such as "expiryTme", is otherwise dropped
		// silently (and then filled). encoding/json matched a wrongly
		// cased one, which Alexa may not.
		if i := slices.IndexFunc(requestFields, func(f string) bool { return strings.EqualFold(f, k) }); i >= 0 {
			ws = append(ws, fmt.Sprintf("%s: read as %s, but the API spells it %s", k, requestFields[i], requestFields[i]))
			continue
		}
		ws = append(ws, fmt.Sprintf("%s: unknown field is ignored; the request fields are %s", k, strings.Join(requestFields, ", ")))
	}
	if r.Event.Name == "" {
		return ws
	}
	d, ok := lookup(r.Event.Name)
	if !ok {
		return append(ws, fmt.Sprintf("event.name: %q is not in the schema catalogue; Alexa may refuse it", r.Event.Name))
	}
	raw, err := r.payloadJSON()
	if err != nil {
		return ws
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&tree) != nil {
		return ws
	}
	return append(ws, inspect(d, tree, r.LocalizedAttributes).warnings...)
}

// checkSchema applies the rules of the catalogue schema name to a decoded
// payload. Names outside the catalogue pass: Amazon may add schemas, and
// Warnings says so instead.
func checkSchema(name string, payload any, locales []LocalizedAttribute) []alexa.Violation {
	d, ok := lookup(name)
	if !ok {
		return nil
	}
	return inspect(d, payload, locales).vs
}

func inspect(d schemaDef, payload any, locales []LocalizedAttribute) *findings {
	f := &findings{}
	if m, ok := payload.(map[string]any); ok {
		f.object("event.payload", m, d.root)
	}
	if d.EnUSOnly {
		for i, l := range locales {
			if loc := l.Locale(); loc != "" && loc != enUS {
				f.vs.Add(fmt.Sprintf("localizedAttributes[%d].locale", i), fmt.Sprintf("must be %s: %s is available in %s only", enUS, d.Name, enUS), loc)
			}
		}
	}
	return f
}

// ahead returns the whole hour at least d after now, in UTC: example times
// read better on the hour.
func ahead(now time.Time, d time.Duration) time.Time {
	return now.Add(d).UTC().Truncate(time.Hour).Add(time.Hour)
}
